"""Loaders turn one source into quads plus a report; they never import `api` or read settings."""
