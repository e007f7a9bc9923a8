"""Social XPress Engine: audience pools in, versioned lead-card handoffs out."""

__version__ = "0.1.0"
