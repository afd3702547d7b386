"""What a person typed into a command, read into values; a Refusal when it cannot be.

A Refusal's text is the whole answer. It is raised inside the command's transaction, so
whatever the command had begun is rolled back and nothing half-made is committed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from game_scheduler.bot.commands import answers
from game_scheduler.bot.commands.forms import GameFields
from game_scheduler.bot.commands.people import Caller
from game_scheduler.domain.validation import InvalidField
from game_scheduler.domain.when import Unreadable, read_duration, read_reminders
from game_scheduler.games.errors import GameError

T = TypeVar("T")


class Refusal(Exception):
    """A command that cannot be done; its text is the answer. Raised inside a transaction."""


def when_reason(reading: Unreadable, caller: Caller) -> str:
    """Why a `when` could not be read, and which zone it was read in."""
    return f"{reading.reason}. (Times are read in {caller.zone}; `/timezone` changes yours.)"


def checked(change: Callable[[], T], fields: GameFields, *, edit: bool = False) -> T:
    """Run a service change; a broken rule becomes a Refusal naming the option."""
    try:
        return change()
    except InvalidField as error:
        given = {
            "title": fields.title,
            "max_players": fields.seats,
            "expected_duration_minutes": fields.duration,
            "reminder_minutes": fields.reminders,
        }.get(error.field)
        tail = " Nothing was changed." if edit else " Nothing was created."
        raise Refusal(answers.invalid_option(error, given) + tail) from error
    except GameError as error:
        raise Refusal(f"{error}. Nothing was changed.") from error


def check_length(option: str, text: str | None, limit: int) -> None:
    """Refuse a text longer than the option allows."""
    if text is not None and len(text) > limit:
        raise Refusal(
            f"`{option}` must be at most {limit} characters (yours has {len(text)}). "
            "Nothing was changed."
        )


def seats_of(text: str | None) -> int | None:
    """Seats from `4`; None when left empty."""
    if text is None or not text.strip():
        return None
    try:
        return int(text.strip())
    except ValueError:
        raise Refusal(f"`seats` must be a whole number, not `{text[:20]}`.") from None


def minutes(text: str | None, option: str) -> int | None:
    """Minutes from `90m`, `1h30`; None when left empty."""
    if text is None or not text.strip():
        return None
    read = read_duration(text)
    if isinstance(read, Unreadable):
        raise Refusal(f"`{option}`: {read.reason}.")
    return read


def reminders_of(text: str | None) -> list[int] | None:
    """Reminder minutes from `1d, 2h, 15m` (`none`: []); None when left empty."""
    if text is None or not text.strip():
        return None
    read = read_reminders(text)
    if isinstance(read, Unreadable):
        raise Refusal(f"`reminders`: {read.reason}.")
    return read
