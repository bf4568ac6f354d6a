"""Querschnitt service: settings, the store interface, named queries, the HTTP app and the CLI."""
