"""The bot's views."""
