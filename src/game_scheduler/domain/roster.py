"""Who plays and who waits: confirmed players and the waitlist, in join order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

P = TypeVar("P")


@dataclass(frozen=True)
class Roster(Generic[P]):
    """Players split by `max_players`; both lists keep join order."""

    confirmed: tuple[P, ...]
    waitlist: tuple[P, ...]

    def waitlist_position(self, player: P) -> int | None:
        """1-based place on the waitlist, or None when confirmed or absent."""
        try:
            return self.waitlist.index(player) + 1
        except ValueError:
            return None


def build_roster(players_in_join_order: Sequence[P], max_players: int | None) -> Roster[P]:
    """Split players into the first `max_players` and the rest; no limit confirms all."""
    if max_players is None:
        return Roster(tuple(players_in_join_order), ())
    if max_players < 0:
        raise ValueError("max_players must not be negative")
    return Roster(
        tuple(players_in_join_order[:max_players]), tuple(players_in_join_order[max_players:])
    )
