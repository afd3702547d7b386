"""The formatter keeps every embed valid for Discord, whatever a host typed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import discord
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from game_scheduler.bot.formatters.game_message import (
    CONTENT_MAX,
    GameMessage,
    PlayerLine,
    build_game_embed,
    closed_dms_notices,
    format_duration,
    player_list,
    reminder_text,
    truncate,
)
from game_scheduler.domain.status import GameStatus

START = datetime(2031, 5, 1, 20, 0, tzinfo=UTC)
HOSTILE = st.sampled_from(
    [
        "@everyone",
        "@here",
        "<@123456789012345678>",
        "<@&123456789012345678>",
        "**",
        "__",
        "`",
        "\\",
        "||",
        "> ",
        "# ",
        "…",
    ]
)
hostile_text = st.lists(st.one_of(HOSTILE, st.text(max_size=50)), max_size=60).map("".join)


def embed_size(embed: discord.Embed) -> int:
    """The characters Discord counts towards an embed's 6,000-character total."""
    total = len(embed.title or "") + len(embed.description or "")
    total += len(embed.footer.text or "") + len(embed.author.name or "")
    return total + sum(len(f.name or "") + len(f.value or "") for f in embed.fields)


def game(**fields: object) -> GameMessage:
    """A game message with sensible defaults."""
    values: dict[str, object] = {
        "game_id": uuid.uuid4(),
        "title": "Catan",
        "status": GameStatus.SCHEDULED,
        "host_id": 42,
        "scheduled_at": START,
    }
    values.update(fields)
    return GameMessage(**values)  # type: ignore[arg-type]


def assert_valid(embed: discord.Embed) -> None:
    """Every limit Discord enforces on an embed."""
    assert len(embed.title or "") <= 256
    assert len(embed.description or "") <= 4096
    assert len(embed.fields) <= 25
    for field in embed.fields:
        assert 0 < len(field.name or "") <= 256
        assert 0 < len(field.value or "") <= 1024
    assert len(embed.footer.text or "") <= 2048
    assert embed_size(embed) <= 6000


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    title=hostile_text.filter(bool),
    description=st.one_of(st.none(), hostile_text, st.just("x" * 10_000)),
    where=st.one_of(st.none(), hostile_text, st.just("y" * 5_000)),
    signup=st.one_of(st.none(), hostile_text, st.just("z" * 5_000)),
    players=st.integers(0, 500),
    max_players=st.one_of(st.none(), st.integers(1, 100)),
    status=st.sampled_from(list(GameStatus)),
    names=st.lists(hostile_text, max_size=5),
)
def test_any_game_makes_a_valid_embed(
    title: str,
    description: str | None,
    where: str | None,
    signup: str | None,
    players: int,
    max_players: int | None,
    status: GameStatus,
    names: list[str],
) -> None:
    lines = [PlayerLine(10**17 + n) for n in range(players)]
    lines += [PlayerLine(None, name) for name in names]
    limit = len(lines) if max_players is None else max_players
    message = game(
        title=title * 20,
        description=description,
        where=where,
        signup_instructions=signup,
        status=status,
        max_players=max_players,
        confirmed=tuple(lines[:limit]),
        waitlist=tuple(lines[limit:]),
    )

    embed = build_game_embed(message)

    assert_valid(embed)
    text = " ".join(
        [embed.title or "", embed.description or ""] + [f.value or "" for f in embed.fields]
    )
    assert "@everyone" not in text
    assert "@here" not in text
    assert "<@123456789012345678>" not in text
    assert "<@&123456789012345678>" not in text


def test_a_long_roster_ends_with_and_n_more() -> None:
    players = [PlayerLine(10**17 + n) for n in range(500)]

    listed = player_list(players)

    assert len(listed) <= 1024
    last = listed.splitlines()[-1]
    shown = len(listed.splitlines()) - 1
    assert last == f"… and {500 - shown} more"


def test_the_embed_shows_what_players_need() -> None:
    message = game(
        where="Room 2",
        max_players=2,
        expected_duration_minutes=90,
        confirmed=(PlayerLine(1), PlayerLine(2)),
        waitlist=(PlayerLine(3),),
    )

    embed = build_game_embed(message)

    fields = {f.name: f.value for f in embed.fields}
    unix = int(START.timestamp())
    assert fields["When"] == f"<t:{unix}:F> (<t:{unix}:R>)"
    assert fields["Where"] == "Room 2"
    assert fields["Players"] == "2/2 (+1 waiting)"
    assert fields["Host"] == "<@42>"
    assert fields["Duration"] == "1 h 30 min"
    assert fields["Playing (2)"] == "1. <@1>\n2. <@2>"
    assert fields["Waitlist (1)"] == "1. <@3>"
    assert embed.colour == discord.Colour.blue()


def test_truncate_never_leaves_a_dangling_escape() -> None:
    assert truncate("ab\\*cd", 4) == "ab…"
    assert truncate("short", 10) == "short"


def test_reminder_text_and_closed_dm_notices_fit() -> None:
    text = reminder_text(game(title="T" * 300), 3)
    assert "waitlist (position 3)" in text

    notices = closed_dms_notices(list(range(10**17, 10**17 + 300)), text)

    assert len(notices) > 1
    assert all(len(n) <= CONTENT_MAX for n in notices)
    assert sum(n.count("<@") for n in notices) == 300
    assert len(closed_dms_notices([1, 2], "hi")) == 1


def test_every_status_has_its_colour_and_footer() -> None:
    seen = {build_game_embed(game(status=s)).colour for s in GameStatus}
    assert len(seen) == len(GameStatus)
    assert build_game_embed(game(status=GameStatus.IN_PROGRESS)).footer.text.startswith(  # type: ignore[union-attr]
        "In progress"
    )


@pytest.mark.parametrize(
    ("minutes", "said"),
    [(1, "1 minute"), (45, "45 minutes"), (60, "1 hour"), (120, "2 hours"), (150, "2 h 30 min")],
)
def test_durations_read_as_people_say_them(minutes: int, said: str) -> None:
    assert format_duration(minutes) == said
