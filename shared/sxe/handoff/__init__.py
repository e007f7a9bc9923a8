"""Handoff to downstream consumers: object stores, signed download URLs and lead-card bundles."""
