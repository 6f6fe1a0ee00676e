"""Serving the app for real: request ids and logs, security headers, the health check."""
