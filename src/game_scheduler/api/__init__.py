"""The REST API v1: `create_app(settings)` builds it, `serve(settings)` runs it."""
