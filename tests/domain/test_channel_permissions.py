"""The bot's permissions in a channel, in Discord's order, and what it lacks to post."""

from __future__ import annotations

import pytest

from game_scheduler.domain.permissions import (
    ADMINISTRATOR,
    EMBED_LINKS,
    EVERY_PERMISSION,
    SEND_MESSAGES,
    VIEW_CHANNEL,
    Member,
    Overwrite,
    channel_permissions,
    missing_to_post,
)

GUILD = 100
ROLE = 200
BOT = 300
POSTING = VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS
bot = Member(BOT, frozenset({ROLE}))


def everyone(allow: int = 0, deny: int = 0) -> Overwrite:
    return Overwrite(GUILD, for_member=False, allow=allow, deny=deny)


def role(allow: int = 0, deny: int = 0) -> Overwrite:
    return Overwrite(ROLE, for_member=False, allow=allow, deny=deny)


def me(allow: int = 0, deny: int = 0) -> Overwrite:
    return Overwrite(BOT, for_member=True, allow=allow, deny=deny)


@pytest.mark.parametrize(
    ("overwrites", "missing"),
    [
        ([], []),
        ([everyone(deny=SEND_MESSAGES)], ["Send Messages"]),
        ([everyone(deny=SEND_MESSAGES), role(allow=SEND_MESSAGES)], []),  # role beats @everyone
        ([role(allow=SEND_MESSAGES), me(deny=SEND_MESSAGES)], ["Send Messages"]),  # member last
        ([everyone(deny=POSTING), me(allow=POSTING)], []),
        ([role(deny=EMBED_LINKS)], ["Embed Links"]),
        (
            [everyone(deny=VIEW_CHANNEL)],  # nothing else applies without View Channel
            ["View Channel", "Send Messages", "Embed Links"],
        ),
        ([Overwrite(999, for_member=True, allow=0, deny=POSTING)], []),  # someone else's
    ],
)
def test_overwrites_apply_in_discords_order(
    overwrites: list[Overwrite], missing: list[str]
) -> None:
    bits = channel_permissions(bot, POSTING, overwrites, everyone_role_id=GUILD)
    assert missing_to_post(bits) == missing


def test_administrator_and_the_owner_ignore_overwrites() -> None:
    denied = [everyone(deny=POSTING), me(deny=POSTING)]
    assert channel_permissions(bot, ADMINISTRATOR, denied, GUILD) == EVERY_PERMISSION
    owner = Member(BOT, frozenset(), is_owner=True)
    assert channel_permissions(owner, 0, denied, GUILD) == EVERY_PERMISSION


def test_server_wide_bits_without_send_cannot_post() -> None:
    bits = channel_permissions(bot, VIEW_CHANNEL | EMBED_LINKS, [], GUILD)
    assert missing_to_post(bits) == ["Send Messages"]
