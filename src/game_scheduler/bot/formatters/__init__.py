"""The bot's formatters."""
