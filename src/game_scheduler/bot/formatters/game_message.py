"""A game's Discord embed and the texts the bot sends about it, always within Discord's limits.

Whatever a host typed (10,000 characters, 500 players, markdown, `@everyone`), the embed
stays valid: every piece is cut to its own limit, then the description gives way until
the whole embed fits in 6,000 characters. User text is escaped so it cannot ping anyone;
the bot also sends with `allowed_mentions` set to none, except for deliberate mentions.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import discord
from discord.utils import escape_markdown, escape_mentions

from game_scheduler.calendar.links import game_google_url, game_ics_url
from game_scheduler.db.models import GameSession
from game_scheduler.domain.schedule_plan import DEFAULT_DURATION_MINUTES
from game_scheduler.domain.status import GameStatus, status_label
from game_scheduler.games.service import roster_of

TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELDS_MAX = 25
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048
EMBED_TOTAL_MAX = 6000
CONTENT_MAX = 2000
ELLIPSIS = "…"

STATUS_COLOURS: dict[GameStatus, discord.Colour] = {
    GameStatus.SCHEDULED: discord.Colour.blue(),
    GameStatus.IN_PROGRESS: discord.Colour.green(),
    GameStatus.COMPLETED: discord.Colour.light_grey(),
    GameStatus.CANCELLED: discord.Colour.red(),
}


@dataclass(frozen=True)
class PlayerLine:
    """One player as the message lists them: a Discord user or a host-added placeholder."""

    user_id: int | None
    display_name: str | None = None


@dataclass(frozen=True)
class GameMessage:
    """Everything a game's message shows, detached from the database session."""

    game_id: uuid.UUID
    title: str
    status: GameStatus
    host_id: int
    scheduled_at: datetime
    description: str | None = None
    where: str | None = None
    signup_instructions: str | None = None
    expected_duration_minutes: int | None = None
    max_players: int | None = None
    confirmed: tuple[PlayerLine, ...] = ()
    waitlist: tuple[PlayerLine, ...] = ()
    cancelled_after_start: bool = False  # cancelled once its start time had come


def game_message_of(game: GameSession) -> GameMessage:
    """Copy what the message shows out of a loaded game (participants included)."""
    roster = roster_of(game)
    return GameMessage(
        game_id=game.id,
        title=game.title,
        status=GameStatus(game.status),
        host_id=game.host_id,
        scheduled_at=game.scheduled_at,
        description=game.description,
        where=game.where,
        signup_instructions=game.signup_instructions,
        expected_duration_minutes=game.expected_duration_minutes,
        max_players=game.max_players,
        confirmed=tuple(PlayerLine(p.user_id, p.display_name) for p in roster.confirmed),
        waitlist=tuple(PlayerLine(p.user_id, p.display_name) for p in roster.waitlist),
        # A cancelled game is never edited again, so its last update is the cancellation.
        cancelled_after_start=game.status == GameStatus.CANCELLED.value
        and game.updated_at is not None
        and game.scheduled_at <= game.updated_at,
    )


def truncate(text: str, limit: int) -> str:
    """Cut `text` to at most `limit` characters, marking the cut with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: max(limit - len(ELLIPSIS), 0)]
    # A cut inside an escape would leave a dangling backslash that escapes the ellipsis.
    while cut.endswith("\\"):
        cut = cut[:-1]
    return cut + ELLIPSIS


def safe_text(text: str, *, markdown: bool = True) -> str:
    """User text that cannot ping anyone and, unless `markdown`, shows literally."""
    text = escape_mentions(text)
    return text if markdown else escape_markdown(text)


def timestamp(moment: datetime, style: str) -> str:
    """Discord's `<t:unix:style>` markup, shown in each reader's own time zone."""
    return f"<t:{int(moment.timestamp())}:{style}>"


def player_name(player: PlayerLine) -> str:
    """A mention for a Discord user, else the escaped placeholder name."""
    if player.user_id is not None:
        return f"<@{player.user_id}>"
    return safe_text(player.display_name or "(open seat)", markdown=False)[:100]


def player_list(players: Sequence[PlayerLine], *, limit: int = FIELD_VALUE_MAX) -> str:
    """Numbered players, shortened with "and N more" so the list fits in `limit`."""
    if not players:
        return "Nobody yet"
    lines: list[str] = []
    used = 0
    for index, player in enumerate(players):
        line = f"{index + 1}. {player_name(player)}"
        rest = len(players) - index - 1
        # Room must remain for the "and N more" line that follows if this is not the last.
        reserve = len(f"\n… and {rest} more") if rest else 0
        if used + len(line) + 1 + reserve > limit:
            lines.append(f"… and {len(players) - index} more")
            break
        lines.append(line)
        used += len(line) + 1
    return "\n".join(lines)


def players_count(message: GameMessage) -> str:
    """ "n/max" (or just n without a limit), plus the waitlist length when there is one."""
    count = len(message.confirmed)
    text = f"{count}/{message.max_players}" if message.max_players is not None else str(count)
    if message.waitlist:
        text += f" (+{len(message.waitlist)} waiting)"
    return text


def format_duration(minutes: int) -> str:
    """A duration as people say it: "1 minute", "90 minutes", "2 hours", "1 h 30 min"."""
    hours, rest = divmod(minutes, 60)
    if hours == 0:
        return f"{minutes} minute" + ("" if minutes == 1 else "s")
    if rest == 0:
        return f"{hours} hour" + ("" if hours == 1 else "s")
    return f"{hours} h {rest} min"


def calendar_links(game_id: uuid.UUID, public_url: str) -> str:
    """ "Add to calendar": the game's .ics and its Google Calendar form, as markdown links."""
    ics = game_ics_url(public_url, game_id)
    google = game_google_url(public_url, game_id)
    return f"[Download .ics]({ics}) · [Google Calendar]({google})"


def _fields(message: GameMessage, public_url: str | None) -> list[tuple[str, str, bool]]:
    duration = message.expected_duration_minutes or DEFAULT_DURATION_MINUTES
    when = f"{timestamp(message.scheduled_at, 'F')} ({timestamp(message.scheduled_at, 'R')})"
    fields: list[tuple[str, str, bool]] = [
        ("When", when, False),
        ("Where", safe_text(message.where) if message.where else "Not set", True),
        ("Players", players_count(message), True),
        ("Host", f"<@{message.host_id}>", True),
        ("Duration", format_duration(duration), True),
        (f"Playing ({len(message.confirmed)})", player_list(message.confirmed), False),
    ]
    if message.waitlist:
        fields.append((f"Waitlist ({len(message.waitlist)})", player_list(message.waitlist), False))
    if message.signup_instructions:
        fields.append(("How to sign up", safe_text(message.signup_instructions), False))
    if public_url and message.status in (GameStatus.SCHEDULED, GameStatus.IN_PROGRESS):
        fields.append(("Add to calendar", calendar_links(message.game_id, public_url), False))
    return [
        (truncate(name, FIELD_NAME_MAX), truncate(value, FIELD_VALUE_MAX), inline)
        for name, value, inline in fields[:FIELDS_MAX]
    ]


def build_game_embed(message: GameMessage, *, public_url: str | None = None) -> discord.Embed:
    """The game's embed: details, players, waitlist, calendar links, colour and footer."""
    title = truncate(safe_text(message.title, markdown=False), TITLE_MAX)
    if message.status is GameStatus.CANCELLED:
        title = truncate(f"[{status_label(message.status)}] {title}", TITLE_MAX)
    shown = status_label(message.status)
    if message.status is GameStatus.SCHEDULED:
        shown += ": press Join to play"
    footer = truncate(f"{shown} · game {message.game_id}", FOOTER_MAX)
    fields = _fields(message, public_url)
    fixed = len(title) + len(footer) + sum(len(n) + len(v) for n, v, _ in fields)
    # The description is the one part worth sacrificing for the 6,000-character total.
    room = min(DESCRIPTION_MAX, EMBED_TOTAL_MAX - fixed)
    description = truncate(safe_text(message.description or ""), max(room, 0))
    embed = discord.Embed(
        title=title,
        description=description or None,
        colour=STATUS_COLOURS[message.status],
    )
    for name, value, inline in fields:
        embed.add_field(name=name, value=value, inline=inline)
    embed.set_footer(text=footer)
    return embed


def reminder_text(message: GameMessage, waitlist_position: int | None) -> str:
    """The DM a player gets before the game: "<title> starts <t:unix:R>"."""
    title = truncate(safe_text(message.title, markdown=False), TITLE_MAX)
    text = f"**{title}** starts {timestamp(message.scheduled_at, 'R')}"
    text += f" ({timestamp(message.scheduled_at, 'F')})."
    if waitlist_position is not None:
        text += (
            f"\nYou are on the waitlist (position {waitlist_position}):"
            " you play if a seat frees up."
        )
    return text


def cancelled_text(message: GameMessage) -> str:
    """The DM a player gets when a game they joined is cancelled."""
    title = truncate(safe_text(message.title, markdown=False), TITLE_MAX)
    if message.cancelled_after_start:
        started = timestamp(message.scheduled_at, "F")
        return f"**{title}**, which started {started}, was cancelled while in progress."
    return f"**{title}**, planned for {timestamp(message.scheduled_at, 'F')}, was cancelled."


def moved_to_waitlist_text(message: GameMessage, waitlist_position: int | None) -> str:
    """The DM a player gets when the host's change of seats moves them to the waitlist."""
    title = truncate(safe_text(message.title, markdown=False), TITLE_MAX)
    seats = f"{message.max_players} seat{'s' if message.max_players != 1 else ''}"
    place = f" (position {waitlist_position})" if waitlist_position is not None else ""
    return (
        f"**{title}** ({timestamp(message.scheduled_at, 'F')}) now has {seats}, so you"
        f" moved to the waitlist{place}: you play if a seat frees up."
    )


def closed_dms_notices(user_ids: Sequence[int], dm_text: str) -> list[str]:
    """Channel messages mentioning users whose DMs are closed; one unless it would overflow."""
    intro = "\n(Your DMs are closed, so this is posted here.)"
    body = truncate(dm_text, CONTENT_MAX // 2)
    messages: list[str] = []
    mentions: list[str] = []
    for user_id in user_ids:
        mention = f"<@{user_id}>"
        if len(" ".join([*mentions, mention])) + 1 + len(body) + len(intro) > CONTENT_MAX:
            messages.append(f"{' '.join(mentions)} {body}{intro}")
            mentions = []
        mentions.append(mention)
    if mentions:
        messages.append(f"{' '.join(mentions)} {body}{intro}")
    return messages
