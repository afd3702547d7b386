"""Who may do what in a server: the one rule book the API, dashboard and commands call.

Pure functions over what Discord reports about a member (their roles and those roles'
permission bits, and the server's owner) and the server's own `host_role_ids`. Nothing
here asks Discord; callers pass in what they know.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

# Discord's permission bits (https://discord.com/developers/docs/topics/permissions).
ADMINISTRATOR = 1 << 3
MANAGE_GUILD = 1 << 5
MANAGE_EVENTS = 1 << 33
MANAGER_BITS = ADMINISTRATOR | MANAGE_GUILD | MANAGE_EVENTS


@dataclass(frozen=True, slots=True)
class Member:
    """A person as one server knows them: their roles, and whether they own it."""

    user_id: int
    role_ids: frozenset[int]
    is_owner: bool = False


@dataclass(frozen=True, slots=True)
class Rights:
    """What a member may do in one server; `role_ids` are their roles there."""

    can_host: bool
    can_manage: bool
    # Left out of ==: two members with the same rights are equal whatever their roles.
    role_ids: frozenset[int] = field(default=frozenset(), compare=False)


def role_permissions(
    member: Member, permissions_by_role: Mapping[int, int], everyone_role_id: int | None = None
) -> int:
    """The union of the permission bits of the member's roles (and @everyone's)."""
    bits = 0
    role_ids = set(member.role_ids)
    if everyone_role_id is not None:
        role_ids.add(everyone_role_id)
    for role_id in role_ids:
        bits |= permissions_by_role.get(role_id, 0)
    return bits


def rights_of(
    member: Member,
    permissions: int,
    host_role_ids: Iterable[int],
) -> Rights:
    """A member's rights from their combined permission bits and the server's host roles."""
    can_manage = member.is_owner or bool(permissions & MANAGER_BITS)
    can_host = can_manage or bool(member.role_ids & set(host_role_ids))
    return Rights(can_host=can_host, can_manage=can_manage, role_ids=member.role_ids)


def may_edit_game(user_id: int, rights: Rights, game_host_id: int) -> bool:
    """A game's host may change it; so may anyone who manages its server."""
    return rights.can_manage or user_id == game_host_id


def may_edit_series(user_id: int, rights: Rights, series_host_id: int) -> bool:
    """A series (its rule, its future games, skipping one, ending it) is its host's to
    change, and the server's managers'."""
    return rights.can_manage or user_id == series_host_id


def may_act_for(user_id: int, rights: Rights, target_user_id: int | None) -> bool:
    """A person joins and leaves as themself; managers may add or remove others."""
    return rights.can_manage or target_user_id == user_id


def may_manage_templates(rights: Rights) -> bool:
    """A server's templates are written by its managers."""
    return rights.can_manage


def may_use_template(rights: Rights, allowed_role_ids: Iterable[int]) -> bool:
    """Hosts may start from a template; one limited to roles, only managers and hosts
    with one of those roles."""
    if not rights.can_host:
        return False
    allowed = frozenset(allowed_role_ids)
    return not allowed or rights.can_manage or bool(rights.role_ids & allowed)


# What the bot needs in a channel to post a game's message: see it, write, show the embed.
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
EMBED_LINKS = 1 << 14
POSTING_PERMISSIONS = (
    (VIEW_CHANNEL, "View Channel"),
    (SEND_MESSAGES, "Send Messages"),
    (EMBED_LINKS, "Embed Links"),
)
EVERY_PERMISSION = (1 << 64) - 1


@dataclass(frozen=True, slots=True)
class Overwrite:
    """One of a channel's permission overwrites: for a role, or for one member."""

    target_id: int
    for_member: bool  # Discord's type 1; type 0 is a role (the server's id: @everyone)
    allow: int
    deny: int


def channel_permissions(
    member: Member, guild_bits: int, overwrites: Iterable[Overwrite], everyone_role_id: int
) -> int:
    """A member's permission bits in one channel, computed in Discord's documented order.

    `guild_bits` are the member's server-wide bits (`role_permissions` with @everyone).
    The owner and Administrator have every permission; otherwise the @everyone overwrite
    applies, then the union of the member's role overwrites (deny, then allow), then the
    overwrite for the member themself.
    """
    if member.is_owner or guild_bits & ADMINISTRATOR:
        return EVERY_PERMISSION
    found = list(overwrites)
    bits = guild_bits
    for overwrite in found:
        if not overwrite.for_member and overwrite.target_id == everyone_role_id:
            bits = (bits & ~overwrite.deny) | overwrite.allow
    allow = deny = 0
    for overwrite in found:
        if not overwrite.for_member and overwrite.target_id in member.role_ids:
            allow |= overwrite.allow
            deny |= overwrite.deny
    bits = (bits & ~deny) | allow
    for overwrite in found:
        if overwrite.for_member and overwrite.target_id == member.user_id:
            bits = (bits & ~overwrite.deny) | overwrite.allow
    return bits


def missing_to_post(channel_bits: int) -> list[str]:
    """The names of the posting permissions these bits lack; [] when a post can go out."""
    if not channel_bits & VIEW_CHANNEL:
        # Without View Channel Discord denies everything else in the channel too.
        return [name for _, name in POSTING_PERMISSIONS]
    return [name for bit, name in POSTING_PERMISSIONS if not channel_bits & bit]
