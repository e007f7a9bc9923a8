"""The enrichment orchestrator: the gate that decides, the sweep that enqueues, the worker that buys."""
