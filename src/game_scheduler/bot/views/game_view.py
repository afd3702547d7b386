"""The Join and Leave buttons under a game's message.

The buttons are `DynamicItem`s: the game id lives in the custom_id (`game:join:<uuid>`),
so once the item classes are registered at startup any button on any message, however
old and whatever process posted it, reaches the client's `press_handler`
(`bot.presses.GamePresses`). Nothing per message is kept in
memory, and a restart loses nothing.
"""

from __future__ import annotations

import logging
import re
import uuid
from enum import StrEnum
from typing import Any, ClassVar, Protocol, Self

import discord

logger = logging.getLogger(__name__)

# The lowercase hyphenated form `str(uuid.UUID)` writes into custom_ids.
UUID_PATTERN = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
JOIN_TEMPLATE = re.compile(rf"game:join:(?P<game_id>{UUID_PATTERN})")
LEAVE_TEMPLATE = re.compile(rf"game:leave:(?P<game_id>{UUID_PATTERN})")


class Action(StrEnum):
    """What a button asks for."""

    JOIN = "join"
    LEAVE = "leave"


def custom_id(action: Action, game_id: uuid.UUID) -> str:
    """The custom_id of a game's button: `game:<action>:<uuid>`."""
    return f"game:{action.value}:{game_id}"


class PressHandler(Protocol):
    """Whoever answers button presses; the bot client carries one as `press_handler`."""

    async def handle_press(
        self, interaction: discord.Interaction[Any], game_id: uuid.UUID, action: Action
    ) -> None:
        """Apply the press and answer the user."""


async def _dispatch(
    interaction: discord.Interaction[Any], game_id: uuid.UUID, action: Action
) -> None:
    handler: PressHandler | None = getattr(interaction.client, "press_handler", None)
    if handler is None:
        logger.error("button pressed but this client has no press handler")
        return
    await handler.handle_press(interaction, game_id, action)


class _GameButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=re.compile(rf"game:(?:join|leave):(?P<game_id>{UUID_PATTERN})"),
):
    """A button of one game; subclasses name the action, and their template its custom_id."""

    action: ClassVar[Action]
    label: ClassVar[str]
    style: ClassVar[discord.ButtonStyle]

    def __init__(self, game_id: uuid.UUID, *, disabled: bool = False) -> None:
        button: discord.ui.Button[discord.ui.View] = discord.ui.Button(
            label=self.label,
            style=self.style,
            custom_id=custom_id(self.action, game_id),
            disabled=disabled,
        )
        super().__init__(button)
        self.game_id = game_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> Self:
        """Rebuild the button from a pressed custom_id."""
        return cls(uuid.UUID(match["game_id"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Join or leave the game."""
        await _dispatch(interaction, self.game_id, self.action)


class JoinButton(_GameButton, template=JOIN_TEMPLATE):
    """The Join button of one game."""

    action = Action.JOIN
    label = "Join"
    style = discord.ButtonStyle.success


class LeaveButton(_GameButton, template=LEAVE_TEMPLATE):
    """The Leave button of one game."""

    action = Action.LEAVE
    label = "Leave"
    style = discord.ButtonStyle.secondary


PERSISTENT_ITEMS = (JoinButton, LeaveButton)


def build_game_view(game_id: uuid.UUID, *, open_for_joining: bool) -> discord.ui.View:
    """The buttons under a game's message, disabled once the game is not SCHEDULED."""
    view = discord.ui.View(timeout=None)
    view.add_item(JoinButton(game_id, disabled=not open_for_joining))
    view.add_item(LeaveButton(game_id, disabled=not open_for_joining))
    return view
