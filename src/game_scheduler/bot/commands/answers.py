"""The words of the commands' answers: short, specific, times as Discord timestamps."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from game_scheduler.bot.formatters.game_message import safe_text, timestamp, truncate
from game_scheduler.db.models import GameSession
from game_scheduler.domain.validation import (
    MAX_DURATION_MINUTES,
    MAX_PLAYERS_LIMIT,
    MAX_REMINDERS,
    MAX_TITLE_LENGTH,
    InvalidField,
)
from game_scheduler.domain.when import describe_minutes

NOT_IN_A_SERVER = "Slash commands for games work inside a server, not in DMs."
CANNOT_HOST = (
    "You may not host games in this server: hosts are the owner, people with Manage Server "
    "or Manage Events, and the server's host roles."
)
CANNOT_MANAGE = (
    "Only the server's managers (the owner, Administrator, Manage Server or Manage Events) "
    "may change its settings."
)
MAX_DURATION = f"{MAX_DURATION_MINUTES // (24 * 60)} days"

# A rule broken, said with the option's name as the person typed it.
_OPTION_RULES = {
    "title": ("title", f"must be 1 to {MAX_TITLE_LENGTH} characters"),
    "scheduled_at": ("when", None),
    "max_players": ("seats", f"must be 1 to {MAX_PLAYERS_LIMIT}, or left out for no limit"),
    "expected_duration_minutes": ("duration", f"must be 1 minute to {MAX_DURATION}"),
    "reminder_minutes": (
        "reminders",
        f"at most {MAX_REMINDERS}, each 1 minute to {MAX_DURATION} before the start, no repeats",
    ),
}


def when(moment: datetime) -> str:
    """A moment as every reader's own local time, and how far away it is."""
    return f"{timestamp(moment, 'F')} ({timestamp(moment, 'R')})"


def stamp(moment: datetime) -> str:
    """A moment as every reader's own full date and time."""
    return timestamp(moment, "F")


def safe_name(text: str) -> str:
    """A name (a template's) shown literally, unable to ping anyone."""
    return safe_text(truncate(text, 100), markdown=False)


def title_of(game: GameSession) -> str:
    """The game's title, bold, safe to show."""
    return f"**{safe_text(truncate(game.title, 100), markdown=False)}**"


def invalid_option(error: InvalidField, given: str | None = None) -> str:
    """A refused field as the option the person typed, with the rule it breaks."""
    option, rule = _OPTION_RULES.get(error.field, (error.field, None))
    if error.field == "reminder_minutes" and "at most" in error.reason:
        rule = f"at most {MAX_REMINDERS} reminders"
    if error.field == "title" and given is not None:
        return f"`{option}` {rule or error.reason} (yours has {len(given.strip())})."
    shown = f" (you gave `{truncate(given, 60)}`)" if given else ""
    return f"`{option}` {rule or error.reason}{shown}."


def reminders_text(minutes: Sequence[int]) -> str:
    """`1d, 2h and 15m before`, or `no reminders`."""
    if not minutes:
        return "no reminders"
    parts = [describe_minutes(m) for m in sorted(minutes, reverse=True)]
    joined = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"reminders {joined} before"


def seats_text(max_players: int | None) -> str:
    """`4 seats`, or `open seats`."""
    if max_players is None:
        return "no seat limit"
    return f"{max_players} seat" + ("" if max_players == 1 else "s")


def summary(game: GameSession) -> str:
    """One line a person can check a game by."""
    duration = describe_minutes(game.expected_duration_minutes or 60)
    return (
        f"{title_of(game)} on {when(game.scheduled_at)} in <#{game.channel_id}>: "
        f"{seats_text(game.max_players)}, {duration}, {reminders_text(game.reminder_minutes)}."
    )
