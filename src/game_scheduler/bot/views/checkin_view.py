"""The "I'm coming" / "Can't make it" buttons of a check-in DM.

Like Join and Leave, they are `DynamicItem`s: the custom_id carries the game and the start
time the check-in asked about (`checkin:yes:<uuid>:<unix>`), so a press reaches the
client's `checkin_handler` (`bot.checkin_presses.CheckinPresses`) after any restart, and an
answer to the check-in of a game that has moved since is recognised as such.
"""

from __future__ import annotations

import logging
import re
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Protocol, Self

import discord

from game_scheduler.bot.views.game_view import UUID_PATTERN

logger = logging.getLogger(__name__)

YES_TEMPLATE = re.compile(rf"checkin:yes:(?P<game_id>{UUID_PATTERN}):(?P<at>[0-9]{{1,12}})")
NO_TEMPLATE = re.compile(rf"checkin:no:(?P<game_id>{UUID_PATTERN}):(?P<at>[0-9]{{1,12}})")


def checkin_custom_id(coming: bool, game_id: uuid.UUID, scheduled_for: datetime) -> str:
    """The custom_id of a check-in button: `checkin:<yes|no>:<uuid>:<unix start>`."""
    return f"checkin:{'yes' if coming else 'no'}:{game_id}:{int(scheduled_for.timestamp())}"


class CheckinHandler(Protocol):
    """Whoever answers check-in presses; the bot client carries one as `checkin_handler`."""

    async def handle_checkin(
        self,
        interaction: discord.Interaction[Any],
        game_id: uuid.UUID,
        scheduled_for: datetime,
        coming: bool,
    ) -> None:
        """Record the answer and tell the player."""


class _CheckinButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=re.compile(rf"checkin:(?:yes|no):(?P<game_id>{UUID_PATTERN}):(?P<at>[0-9]{{1,12}})"),
):
    coming: ClassVar[bool]
    label: ClassVar[str]
    style: ClassVar[discord.ButtonStyle]

    def __init__(self, game_id: uuid.UUID, scheduled_for: datetime) -> None:
        button: discord.ui.Button[discord.ui.View] = discord.ui.Button(
            label=self.label,
            style=self.style,
            custom_id=checkin_custom_id(self.coming, game_id, scheduled_for),
        )
        super().__init__(button)
        self.game_id = game_id
        self.scheduled_for = scheduled_for

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> Self:
        """Rebuild the button from a pressed custom_id."""
        return cls(uuid.UUID(match["game_id"]), datetime.fromtimestamp(int(match["at"]), UTC))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Answer the check-in."""
        handler: CheckinHandler | None = getattr(interaction.client, "checkin_handler", None)
        if handler is None:
            logger.error("check-in pressed but this client has no check-in handler")
            return
        await handler.handle_checkin(interaction, self.game_id, self.scheduled_for, self.coming)


class ComingButton(_CheckinButton, template=YES_TEMPLATE):
    """ "I'm coming"."""

    coming = True
    label = "I'm coming"
    style = discord.ButtonStyle.success


class NotComingButton(_CheckinButton, template=NO_TEMPLATE):
    """ "Can't make it": frees the seat."""

    coming = False
    label = "Can't make it"
    style = discord.ButtonStyle.danger


CHECKIN_ITEMS = (ComingButton, NotComingButton)


def build_checkin_view(game_id: uuid.UUID, scheduled_for: datetime) -> discord.ui.View:
    """The two buttons under a check-in DM."""
    view = discord.ui.View(timeout=None)
    view.add_item(ComingButton(game_id, scheduled_for))
    view.add_item(NotComingButton(game_id, scheduled_for))
    return view
