"""Game Scheduler: a self-hosted Discord game-session scheduler."""

__version__ = "0.1.0"
