"""The rule book: owner, manager bits and host roles decide who hosts and who manages."""

from __future__ import annotations

import pytest

from game_scheduler.domain.permissions import (
    ADMINISTRATOR,
    MANAGE_EVENTS,
    MANAGE_GUILD,
    Member,
    Rights,
    may_act_for,
    may_edit_game,
    may_edit_series,
    may_manage_templates,
    may_use_template,
    rights_of,
    role_permissions,
)

HOST_ROLE = 500
SEND_MESSAGES = 1 << 11


@pytest.mark.parametrize(
    ("member", "permissions", "expected"),
    [
        (Member(1, frozenset(), is_owner=True), 0, Rights(True, True)),
        (Member(2, frozenset()), ADMINISTRATOR, Rights(True, True)),
        (Member(3, frozenset()), MANAGE_GUILD, Rights(True, True)),
        (Member(4, frozenset()), MANAGE_EVENTS, Rights(True, True)),
        (Member(5, frozenset({HOST_ROLE})), SEND_MESSAGES, Rights(True, False)),
        (Member(6, frozenset({77})), SEND_MESSAGES, Rights(False, False)),
    ],
)
def test_rights(member: Member, permissions: int, expected: Rights) -> None:
    assert rights_of(member, permissions, [HOST_ROLE]) == expected


def test_role_permissions_unions_roles_and_everyone() -> None:
    member = Member(1, frozenset({10, 11}))
    bits = role_permissions(member, {10: SEND_MESSAGES, 11: MANAGE_EVENTS, 99: 1}, 99)
    assert bits == SEND_MESSAGES | MANAGE_EVENTS | 1


def test_only_host_or_manager_edits_and_acts_for_others() -> None:
    plain = Rights(can_host=True, can_manage=False)
    manager = Rights(can_host=True, can_manage=True)
    assert may_edit_game(1, plain, game_host_id=1)
    assert not may_edit_game(1, plain, game_host_id=2)
    assert may_edit_game(1, manager, game_host_id=2)
    assert may_act_for(1, plain, 1)
    assert not may_act_for(1, plain, 2)
    assert may_act_for(1, manager, 2)


OTHER_ROLE = 600


@pytest.mark.parametrize(
    ("rights", "allowed", "expected"),
    [
        (Rights(True, False, frozenset({HOST_ROLE})), (), True),
        (Rights(True, False, frozenset({HOST_ROLE})), (HOST_ROLE,), True),
        (Rights(True, False, frozenset({HOST_ROLE})), (OTHER_ROLE,), False),
        (Rights(True, True), (OTHER_ROLE,), True),
        (Rights(False, False, frozenset({OTHER_ROLE})), (OTHER_ROLE,), False),
        (Rights(False, False), (), False),
    ],
)
def test_templates_are_for_hosts_and_those_kept_for_roles_for_those_roles(
    rights: Rights, allowed: tuple[int, ...], expected: bool
) -> None:
    assert may_use_template(rights, allowed) is expected


def test_a_members_rights_carry_their_roles() -> None:
    rights = rights_of(Member(7, frozenset({HOST_ROLE})), 0, [HOST_ROLE])
    assert rights.role_ids == {HOST_ROLE}
    assert may_use_template(rights, [HOST_ROLE])
    assert not may_manage_templates(rights)


def test_a_series_is_its_hosts_and_the_managers() -> None:
    assert may_edit_series(1, Rights(True, False), 1)
    assert not may_edit_series(1, Rights(True, False), 2)
    assert may_edit_series(1, Rights(True, True), 2)
