"""Players beyond max_players wait, in join order."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from game_scheduler.domain.roster import build_roster


def test_players_beyond_the_limit_wait_in_join_order() -> None:
    roster = build_roster(["ann", "bob", "cat", "dan"], max_players=2)
    assert roster.confirmed == ("ann", "bob")
    assert roster.waitlist == ("cat", "dan")
    assert roster.waitlist_position("dan") == 2
    assert roster.waitlist_position("ann") is None


def test_no_limit_confirms_everyone() -> None:
    roster = build_roster(["ann", "bob"], max_players=None)
    assert roster.confirmed == ("ann", "bob")
    assert roster.waitlist == ()


@given(
    players=st.lists(st.integers(), unique=True, max_size=200),
    max_players=st.one_of(st.none(), st.integers(min_value=0, max_value=100)),
)
def test_roster_properties(players: list[int], max_players: int | None) -> None:
    roster = build_roster(players, max_players)
    # Nobody lost, nobody twice, join order kept, and the confirmed list never over the limit.
    assert list(roster.confirmed + roster.waitlist) == players
    if max_players is not None:
        assert len(roster.confirmed) == min(max_players, len(players))
    else:
        assert roster.waitlist == ()
