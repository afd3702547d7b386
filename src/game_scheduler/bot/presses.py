"""What a Join or Leave press does: one transaction through the game service, a private answer.

`GamePresses` is the bot's `press_handler`: the buttons (`bot.views.game_view`) hand it
every press, whatever message it came from.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from typing import Any

import discord
from sqlalchemy.orm import Session, sessionmaker

from game_scheduler.bot.views.game_view import Action
from game_scheduler.clock import Clock
from game_scheduler.domain.status import status_label
from game_scheduler.games import service
from game_scheduler.games.errors import AlreadyJoined, GameNotFound, GameNotOpen, NotJoined

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PressOutcome:
    """What a press did: the private answer, and whether the roster changed."""

    answer: str
    changed: bool


class GamePresses:
    """Applies Join and Leave presses through the game service and answers privately."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    def apply(
        self, game_id: uuid.UUID, user_id: int, action: Action, display_name: str | None
    ) -> PressOutcome:
        """Join or leave in one transaction; every expected refusal becomes an answer."""
        try:
            with self._sessions.begin() as session:
                if action is Action.JOIN:
                    result = service.join_game(
                        session, game_id, user_id, now=self._clock.now(), display_name=display_name
                    )
                    position = result.waitlist_position
                    if position is None:
                        return PressOutcome("You joined the game. See you there!", True)
                    return PressOutcome(
                        f"The game is full: you are on the waitlist at position {position}.", True
                    )
                service.leave_game(session, game_id, user_id, now=self._clock.now())
                return PressOutcome("You left the game.", True)
        except AlreadyJoined:
            return PressOutcome("You are already in this game.", False)
        except NotJoined:
            return PressOutcome("You are not in this game.", False)
        except GameNotOpen as exc:
            status = status_label(exc.status).lower()
            return PressOutcome(f"This game is closed (it is {status}).", False)
        except GameNotFound:
            return PressOutcome("This game no longer exists.", False)

    async def handle_press(
        self, interaction: discord.Interaction[Any], game_id: uuid.UUID, action: Action
    ) -> None:
        """Apply a press off the event loop and answer within Discord's 3 s.

        The message is not refreshed from here: the change's `game.updated` outbox event
        does that, as for a change made anywhere else, so a press costs one edit, not two.
        """
        user = interaction.user
        outcome = await asyncio.to_thread(self.apply, game_id, user.id, action, user.display_name)
        logger.info(
            "button pressed",
            extra={
                "game_id": str(game_id),
                "user_id": user.id,
                "action": action.value,
                "changed": outcome.changed,
            },
        )
        await interaction.response.send_message(
            outcome.answer, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
        )
