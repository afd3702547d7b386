"""The bot's events."""
