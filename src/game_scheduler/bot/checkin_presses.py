"""What a check-in press does: the answer in one transaction, a private reply.

"Can't make it" leaves the game through the service, so the promotion it causes is
announced by its `game.updated` event (the message edit and the promoted player's DM).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import datetime
from typing import Any

import discord
from sqlalchemy.orm import Session, sessionmaker

from game_scheduler.bot.formatters.game_message import timestamp
from game_scheduler.clock import Clock
from game_scheduler.games.checkins import AnswerOutcome, AnswerResult, answer_checkin

logger = logging.getLogger(__name__)


def answer_text(result: AnswerResult) -> str:
    """The private reply to a check-in press."""
    start = timestamp(result.scheduled_at, "F") if result.scheduled_at else ""
    return {
        AnswerOutcome.COMING: "Thanks, you are checked in. See you there!",
        AnswerOutcome.ALREADY_COMING: "You are already checked in.",
        AnswerOutcome.SEAT_FREED: (
            "Thanks for telling us: your seat is free for the next player on the waitlist."
        ),
        AnswerOutcome.ALREADY_LEFT: "You already gave up your seat in this game.",
        AnswerOutcome.NOT_PLAYING: "You do not have a seat in this game, so there is nothing to"
        " check in for.",
        AnswerOutcome.MOVED: f"The game has moved to {start}: this check-in was for the old"
        " time. You will be asked again before the new one.",
        AnswerOutcome.CLOSED: "Check-in is over: the game has started, ended or was cancelled.",
        AnswerOutcome.MISSING: "This game no longer exists.",
    }[result.outcome]


class CheckinPresses:
    """Applies "I'm coming" / "Can't make it" and answers privately."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    def apply(
        self, game_id: uuid.UUID, user_id: int, scheduled_for: datetime, coming: bool
    ) -> AnswerResult:
        """Record the answer in one transaction."""
        with self._sessions.begin() as session:
            return answer_checkin(
                session, game_id, user_id, scheduled_for, coming=coming, now=self._clock.now()
            )

    async def handle_checkin(
        self,
        interaction: discord.Interaction[Any],
        game_id: uuid.UUID,
        scheduled_for: datetime,
        coming: bool,
    ) -> None:
        """Apply a press off the event loop and answer within Discord's 3 s."""
        user_id = interaction.user.id
        result = await asyncio.to_thread(self.apply, game_id, user_id, scheduled_for, coming)
        logger.info(
            "check-in answered",
            extra={"game_id": str(game_id), "user_id": user_id, "outcome": result.outcome.value},
        )
        await interaction.response.send_message(
            answer_text(result), ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
        )
