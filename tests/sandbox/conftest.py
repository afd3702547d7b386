"""Sandbox fixtures for these tests, until the root conftest lists tests.fixtures.sandbox."""

from __future__ import annotations

from tests.fixtures.sandbox import discord_client, discord_sandbox  # noqa: F401
