"""The HTTP API under /api/v1/: translates JSON to service calls and back."""
