"""The edit form (a modal with the game's current values) and the cancel confirmation.

Discord allows five inputs in a modal; a game has seven things to edit. Title, when,
where and description get one each, and seats, duration and reminders share the fifth
as three labelled lines (`seats: 4`, `duration: 2h`, `reminders: 1h, 15m`).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

import discord

from game_scheduler.bot.formatters.game_message import truncate
from game_scheduler.db.models import GameSession
from game_scheduler.domain.validation import MAX_TITLE_LENGTH
from game_scheduler.domain.when import describe_minutes, zone_of

FORM_TIMEOUT = 15 * 60.0  # seconds a form or a confirmation stays usable
# The API's limits too: a game's embed shows these in fields of 1,024 and 4,096 characters.
WHERE_MAX = 1000
DESCRIPTION_MAX = 4000


@dataclass(frozen=True)
class GameFields:
    """A game's fields as a person types them (all text; empty means not given)."""

    title: str | None = None
    when: str | None = None
    seats: str | None = None
    duration: str | None = None
    reminders: str | None = None
    where: str | None = None
    description: str | None = None
    unreadable: str | None = None  # why the details lines could not be read

    @staticmethod
    def local_text(game: GameSession, zone: str) -> str:
        """The start as a wall-clock time in `zone`, in a form `when` reads back exactly."""
        tz = zone_of(zone)
        local = game.scheduled_at.astimezone(tz) if tz is not None else game.scheduled_at
        return f"{local:%Y-%m-%d %H:%M}"

    @classmethod
    def of(cls, game: GameSession, zone: str) -> GameFields:
        """The game's current values, as the edit form shows them."""
        minutes = game.expected_duration_minutes
        return cls(
            title=game.title,
            when=cls.local_text(game, zone),
            seats="" if game.max_players is None else str(game.max_players),
            duration="" if minutes is None else describe_minutes(minutes),
            reminders=reminders_line(game.reminder_minutes),
            where=game.where or "",
            description=game.description or "",
        )

    def details(self) -> str:
        """Seats, duration and reminders as the modal's lines."""
        return "\n".join(f"{name}: {getattr(self, name) or ''}".rstrip() for name in DETAIL_LINES)

    def with_details(self, text: str) -> GameFields:
        """These fields with the modal's lines read back; a line left out keeps its value."""
        found: dict[str, str] = {}
        for line in text.splitlines():
            if not line.strip():
                continue
            name, sep, value = line.partition(":")
            name = name.strip().lower()
            if not sep or name not in DETAIL_LINES:
                return replace(
                    self,
                    unreadable=f"I read the line `{truncate(line.strip(), 40)}` as none of "
                    "`seats:`, `duration:` and `reminders:`. Nothing was changed.",
                )
            found[name] = value.strip()
        return replace(self, **found)


DETAIL_LINES = ("seats", "duration", "reminders")
DETAILS_LABEL = "Seats, duration, reminders"


def reminders_line(minutes: list[int]) -> str:
    """`1d, 15m`, or `none`: reminders as `read_reminders` reads them back."""
    if not minutes:
        return "none"
    return ", ".join(describe_minutes(m) for m in sorted(minutes, reverse=True))


SubmitEdit = Callable[[discord.Interaction[Any], uuid.UUID, GameFields], Awaitable[None]]


class EditGameForm(discord.ui.Modal):
    """The edit modal: every field filled with the game's current value."""

    def __init__(self, game_id: uuid.UUID, current: GameFields, *, on_submit: SubmitEdit) -> None:
        # Discord allows 45 characters of modal title.
        super().__init__(title=truncate(f"Edit {current.title}", 45), timeout=FORM_TIMEOUT)
        self.game_id = game_id
        self._submit = on_submit
        self.title_input: discord.ui.TextInput[EditGameForm] = discord.ui.TextInput(
            label="Title", default=current.title, max_length=MAX_TITLE_LENGTH
        )
        self.when_input: discord.ui.TextInput[EditGameForm] = discord.ui.TextInput(
            label="When (in your time zone)",
            default=current.when,
            placeholder="friday 8pm, 2027-01-15 20:00",
            max_length=100,
        )
        self.where_input: discord.ui.TextInput[EditGameForm] = discord.ui.TextInput(
            label="Where", default=current.where, required=False, max_length=WHERE_MAX
        )
        self.description_input: discord.ui.TextInput[EditGameForm] = discord.ui.TextInput(
            label="Description",
            default=current.description,
            required=False,
            max_length=DESCRIPTION_MAX,
            style=discord.TextStyle.paragraph,
        )
        self.details_input: discord.ui.TextInput[EditGameForm] = discord.ui.TextInput(
            label=DETAILS_LABEL,
            default=current.details(),
            required=False,
            max_length=200,
            style=discord.TextStyle.paragraph,
        )
        self._current = current
        for item in (
            self.title_input,
            self.when_input,
            self.where_input,
            self.description_input,
            self.details_input,
        ):
            self.add_item(item)

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        """Hand what was typed to the edit command."""
        typed = replace(
            self._current,
            title=self.title_input.value,
            when=self.when_input.value,
            where=self.where_input.value,
            description=self.description_input.value,
        )
        fields = typed.with_details(self.details_input.value)
        await self._submit(interaction, self.game_id, fields)


class CancelConfirmation(discord.ui.View):
    """Two buttons under the cancel question: cancel the game, or keep it."""

    def __init__(self, user_id: int, cancel: Callable[[], Awaitable[str]]) -> None:
        super().__init__(timeout=FORM_TIMEOUT)
        self._user_id = user_id
        self._cancel = cancel

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        """Only the person who asked may answer."""
        return interaction.user.id == self._user_id

    @discord.ui.button(label="Cancel the game", style=discord.ButtonStyle.danger)
    async def confirm(
        self, interaction: discord.Interaction[Any], _button: discord.ui.Button[CancelConfirmation]
    ) -> None:
        """Cancel it, and say so in place of the question."""
        self.stop()
        await interaction.response.defer()
        text = await self._cancel()
        await interaction.edit_original_response(content=text, view=None)

    @discord.ui.button(label="Keep it", style=discord.ButtonStyle.secondary)
    async def keep(
        self, interaction: discord.Interaction[Any], _button: discord.ui.Button[CancelConfirmation]
    ) -> None:
        """Change nothing."""
        self.stop()
        await interaction.response.edit_message(content="Kept: nothing was changed.", view=None)
