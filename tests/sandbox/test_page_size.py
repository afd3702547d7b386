"""The page stays light with 310 channels and 1,000 DMs, and its refresh costs nothing idle."""

from __future__ import annotations

from typing import Any

from game_scheduler.sandbox.page import MESSAGES_SHOWN
from tests.fixtures.sandbox import SandboxHandle

CHANNELS = 310
DMS = 1000
PAGE_BUDGET = 150_000  # bytes; the page was 1.16 MB at this size, re-fetched every 2 s


def _embed(title: str) -> dict[str, Any]:
    return {
        "title": title,
        "description": "A game posted by the load test. " * 4,
        "fields": [{"name": "Players", "value": "3/4"}, {"name": "When", "value": "<t:1:F>"}],
        "footer": {"text": "Scheduled"},
    }


def _fill(sandbox: SandboxHandle) -> None:
    state = sandbox.state_object
    for index in range(CHANNELS):
        channel, _ = state.channel(500_000_000_000_000_000 + index)
        for _ in range(3):
            state.create_message(channel, {"embeds": [_embed(f"Game {index}")]})
    for index in range(DMS):
        dm = state.open_dm(600_000_000_000_000_000 + index)
        state.create_message(dm, {"content": f"**Game {index}** starts in 1 hour."})


async def _get(
    sandbox: SandboxHandle, query: str = "", headers: dict[str, str] | None = None
) -> tuple[int, str, str]:
    async with sandbox.session.get(f"{sandbox.url}/{query}", headers=headers) as response:
        return response.status, await response.text(), response.headers.get("ETag", "")


async def test_the_page_at_310_channels_and_1000_dms_is_light_and_usable(
    discord_sandbox: SandboxHandle,
) -> None:
    _fill(discord_sandbox)
    status, page, etag = await _get(discord_sandbox)
    assert status == 200
    assert len(page.encode()) < PAGE_BUDGET, len(page.encode())
    assert f"{CHANNELS + DMS} conversations" in page
    assert f"DM with user {600_000_000_000_000_000 + DMS - 1}" in page  # the latest is shown
    assert etag

    # Any conversation can be opened by itself, found by its id.
    found = await _get(discord_sandbox, "?q=500000000000000007")
    assert "#channel-500000000000000007" in found[1]
    status, one, _ = await _get(discord_sandbox, "?view=channel:500000000000000007")
    assert one.count('class="message"') == 3
    assert "Game 7" in one


async def test_the_refresh_answers_304_until_something_changes(
    discord_sandbox: SandboxHandle,
) -> None:
    _fill(discord_sandbox)
    _, _, etag = await _get(discord_sandbox)
    status, body, _ = await _get(discord_sandbox, "?fragment=1", {"If-None-Match": etag})
    assert (status, body) == (304, "")

    state = discord_sandbox.state_object
    channel, _ = state.channel(500_000_000_000_000_001)
    stored = next(iter(channel.messages.values()))
    state.edit_message(stored, {"embeds": [_embed("Game 1, edited")]})
    status, fragment, new_etag = await _get(discord_sandbox, "?fragment=1", {"If-None-Match": etag})
    assert status == 200
    assert new_etag != etag
    assert len(fragment.encode()) < PAGE_BUDGET


async def test_a_long_conversation_shows_its_latest_messages(
    discord_sandbox: SandboxHandle,
) -> None:
    state = discord_sandbox.state_object
    dm = state.open_dm(700_000_000_000_000_001)
    for index in range(MESSAGES_SHOWN + 10):
        state.create_message(dm, {"content": f"reminder number {index}"})
    _, page, _ = await _get(discord_sandbox)
    assert f"reminder number {MESSAGES_SHOWN + 9}" in page
    assert "reminder number 0<" not in page
    assert f"(latest {MESSAGES_SHOWN} of {MESSAGES_SHOWN + 10})" in page
