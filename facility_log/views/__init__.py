"""HTML pages: function views that translate requests into service calls."""
