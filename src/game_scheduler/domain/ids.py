"""Id types that must not be confused: a game's uuid is not a Discord snowflake."""

from __future__ import annotations

from typing import NewType
from uuid import UUID

GameId = NewType("GameId", UUID)
Snowflake = NewType("Snowflake", int)

# Discord snowflakes are unsigned 64-bit; PostgreSQL BIGINT is signed, so this is our ceiling.
MAX_SNOWFLAKE = 2**63 - 1
