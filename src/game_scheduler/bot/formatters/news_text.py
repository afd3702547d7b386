"""The DMs that tell players and hosts what changed: promotions, moves, check-ins, ...

Each text names the game (escaped: it cannot ping), its time as Discord timestamps (shown
in each reader's own zone) and, once the game is posted, a link to its message. DMs are
sent with `allowed_mentions` none, so a `<@id>` in them shows the name and pings nobody.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from game_scheduler.bot.formatters.game_message import (
    TITLE_MAX,
    GameMessage,
    cancelled_text,
    safe_text,
    timestamp,
    truncate,
)

REASON_MAX = 500


def _title(message: GameMessage) -> str:
    return "**" + truncate(safe_text(message.title, markdown=False), TITLE_MAX) + "**"


def _with_link(text: str, link: str | None) -> str:
    return f"{text}\n{link}" if link else text


def _when(moment: datetime) -> str:
    return f"{timestamp(moment, 'F')} ({timestamp(moment, 'R')})"


def _people(user_ids: Sequence[int]) -> str:
    mentions = [f"<@{u}>" for u in user_ids]
    return mentions[0] if len(mentions) == 1 else ", ".join(mentions[:-1]) + " and " + mentions[-1]


def promoted_text(message: GameMessage, link: str | None) -> str:
    """To a player who got a seat from the waitlist."""
    return _with_link(
        f"A seat opened up in {_title(message)}, {_when(message.scheduled_at)}:"
        " you moved up from the waitlist and are now playing!",
        link,
    )


def moved_text(message: GameMessage, previous: datetime, link: str | None) -> str:
    """To every player when the game moved to another time."""
    return _with_link(
        f"{_title(message)} moved from {timestamp(previous, 'F')}"
        f" to {_when(message.scheduled_at)}.",
        link,
    )


def cancelled_news_text(
    message: GameMessage, cancelled_by: int | None, reason: str | None, link: str | None
) -> str:
    """To every player when the game is cancelled: by whom, and why if they said."""
    text = cancelled_text(message)
    if cancelled_by is not None:
        text += f" Cancelled by <@{cancelled_by}>."
    if reason:
        text += f"\nReason: {truncate(safe_text(reason), REASON_MAX)}"
    return _with_link(text, link)


def reordered_text(message: GameMessage, waitlist_position: int | None) -> str:
    """To a player who lost their seat because the host moved someone else up."""
    place = f" (position {waitlist_position})" if waitlist_position is not None else ""
    return (
        f"The host moved another player up in {_title(message)}, {_when(message.scheduled_at)},"
        f" so you are now on the waitlist{place}: you play if a seat frees up."
    )


def removed_text(message: GameMessage, link: str | None) -> str:
    """To a player the host took off the roster."""
    return _with_link(
        f"The host removed you from {_title(message)}, {_when(message.scheduled_at)}.", link
    )


def joined_text(message: GameMessage, waitlist_position: int | None, link: str | None) -> str:
    """To a player who joined: where they stand, and the host's signup instructions."""
    text = f"You joined {_title(message)}, {_when(message.scheduled_at)}."
    if waitlist_position is not None:
        text += (
            f"\nThe game is full: you are on the waitlist (position {waitlist_position})"
            " and play if a seat frees up."
        )
    if message.signup_instructions:
        text += f"\nHow to sign up: {truncate(safe_text(message.signup_instructions), 1000)}"
    return _with_link(text, link)


def released_text(message: GameMessage, link: str | None) -> str:
    """To a player whose seat went to the waitlist because they did not check in."""
    return _with_link(
        f"You did not answer the check-in for {_title(message)}, {_when(message.scheduled_at)},"
        " so your seat went to a player on the waitlist. Join again if you can still come.",
        link,
    )


def checkin_text(message: GameMessage, release_at: datetime | None, link: str | None) -> str:
    """The check-in question, sent with the "I'm coming" / "Can't make it" buttons."""
    text = f"{_title(message)} starts {_when(message.scheduled_at)}. Are you coming?"
    if release_at is not None:
        text += (
            f"\nWithout an answer by {timestamp(release_at, 't')} your seat may go to a player"
            " on the waitlist."
        )
    return _with_link(text, link)


def checkin_channel_text(message: GameMessage) -> str:
    """For players whose DMs are closed: no buttons reach them, so their seat stays theirs."""
    return (
        f"{_title(message)} starts {timestamp(message.scheduled_at, 'R')}: check-in is open."
        " I cannot ask you by DM, so your seat stays yours; leave the game if you cannot come."
    )


def host_left_full_text(
    message: GameMessage, left: int, promoted: Sequence[int], link: str | None
) -> str:
    """To the host: someone left their full game."""
    text = f"<@{left}> left {_title(message)}, {_when(message.scheduled_at)}, which was full."
    if promoted:
        text += f" {_people(promoted)} moved up from the waitlist."
    else:
        text += " A seat is free."
    return _with_link(text, link)


def host_released_text(
    message: GameMessage, released: Sequence[int], promoted: Sequence[int], link: str | None
) -> str:
    """To the host: seats of players who did not check in went to the waitlist."""
    text = f"{_people(released)} did not check in for {_title(message)}, so"
    text += f" their seats went to {_people(promoted)}." if promoted else " their seats were freed."
    return _with_link(text, link)


def host_short_text(message: GameMessage, playing: int, min_players: int, link: str | None) -> str:
    """To the host at check-in time: fewer confirmed players than the game needs."""
    return _with_link(
        f"{_title(message)} starts {_when(message.scheduled_at)} and is short of players:"
        f" {playing} confirmed, at least {min_players} needed.",
        link,
    )
