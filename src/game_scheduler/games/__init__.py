"""The one place that changes games, used by the API and the bot."""
