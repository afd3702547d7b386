"""A local stand-in for Discord's REST API and Gateway, for development and tests."""
