"""HTTP API of this app."""
