"""Limits of the ids we store: Discord snowflakes in PostgreSQL BIGINT columns."""

from __future__ import annotations

# Discord snowflakes are unsigned 64-bit; PostgreSQL BIGINT is signed, so this is our ceiling.
MAX_SNOWFLAKE = 2**63 - 1
