"""The addresses of feeds, a game's .ics, its Google Calendar page and its Discord message."""

from __future__ import annotations

import uuid
from datetime import UTC
from urllib.parse import urlencode

from game_scheduler.calendar.ics import CalendarEntry, description_text

DISCORD_WEB_BASE = "https://discord.com"
GOOGLE_TEMPLATE_URL = "https://calendar.google.com/calendar/render"
# Google refuses very long query strings; the description is cut to stay well below them.
GOOGLE_DETAILS_MAX = 1500  # characters


def _base(public_url: str) -> str:
    return public_url.rstrip("/")


def personal_feed_url(public_url: str, token: str) -> str:
    """A person's secret feed: `<PUBLIC_URL>/calendar/<token>.ics`."""
    return f"{_base(public_url)}/calendar/{token}.ics"


def guild_feed_url(public_url: str, token: str, guild_id: int) -> str:
    """All of one server's games, behind the same person's secret."""
    return f"{_base(public_url)}/calendar/{token}/guilds/{guild_id}.ics"


def game_ics_url(public_url: str, game_id: uuid.UUID) -> str:
    """One game's .ics, for "Add to calendar"."""
    return f"{_base(public_url)}/calendar/games/{game_id}.ics"


def game_google_url(public_url: str, game_id: uuid.UUID) -> str:
    """Our short address that sends the person on to Google Calendar's form for the game."""
    return f"{_base(public_url)}/calendar/games/{game_id}/google"


def discord_message_url(
    guild_id: int, channel_id: int, message_id: int | None, web_base: str = DISCORD_WEB_BASE
) -> str | None:
    """The link that opens the game's message in Discord; None until it is posted."""
    if message_id is None:
        return None
    return f"{web_base.rstrip('/')}/channels/{guild_id}/{channel_id}/{message_id}"


def google_calendar_url(entry: CalendarEntry) -> str:
    """Google Calendar's "create event" form filled in with the game."""
    fmt = "%Y%m%dT%H%M%SZ"
    dates = (
        f"{entry.scheduled_at.astimezone(UTC).strftime(fmt)}/"
        f"{entry.ends_at.astimezone(UTC).strftime(fmt)}"
    )
    details = description_text(entry)
    if len(details) > GOOGLE_DETAILS_MAX:
        details = details[: GOOGLE_DETAILS_MAX - 1] + "…"
    query = {"action": "TEMPLATE", "text": entry.title, "dates": dates, "details": details}
    if entry.where:
        query["location"] = entry.where
    return f"{GOOGLE_TEMPLATE_URL}?{urlencode(query)}"
