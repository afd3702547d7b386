"""`/game create | list | mine | edit | cancel`: thin doors onto the game service.

Each command reads what the person typed, asks the rule book whether they may, calls
`games/service.py` in one transaction (a refusal raises out of it, so nothing half-made
is ever committed), and answers ephemerally. Database work runs on a thread.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import discord
from discord import app_commands
from sqlalchemy.orm import Session, sessionmaker

from game_scheduler.bot.commands import answers
from game_scheduler.bot.commands.creating import (
    REPEAT_LABELS,
    CreateRequest,
    create_from_command,
)
from game_scheduler.bot.commands.forms import (
    DESCRIPTION_MAX,
    WHERE_MAX,
    CancelConfirmation,
    EditGameForm,
    GameFields,
)
from game_scheduler.bot.commands.lookups import (
    CHOICES_MAX,
    OPEN_STATUSES,
    changeable_games,
    find_game,
    games_of,
    may_change,
    upcoming_games,
)
from game_scheduler.bot.commands.people import Caller, Facts, facts_of, load_caller
from game_scheduler.bot.commands.reading import (
    Refusal,
    check_length,
    checked,
    minutes,
    reminders_of,
    seats_of,
    when_reason,
)
from game_scheduler.clock import Clock
from game_scheduler.db.models import GameSession
from game_scheduler.domain.roster import build_roster
from game_scheduler.domain.when import Unreadable, read_when
from game_scheduler.games import service
from game_scheduler.games import templates as template_store
from game_scheduler.games.errors import GameError

T = TypeVar("T")
LIST_LIMIT = 10
# The bot needs these in a channel to post a game there.
POSTING = discord.Permissions(view_channel=True, send_messages=True, embed_links=True)


@dataclass(frozen=True)
class CommandDeps:
    """What the commands work with: the database, the clock, and who refreshes messages."""

    sessions: sessionmaker[Session]
    clock: Clock
    on_game_changed: Callable[[uuid.UUID], None]
    public_url: str = "http://127.0.0.1:8000"  # where calendar links point

    async def run(self, work: Callable[[Session], T]) -> T:
        """Run `work` in one transaction on a thread; a Refusal rolls it back."""

        def in_transaction() -> T:
            with self.sessions.begin() as session:
                return work(session)

        return await asyncio.to_thread(in_transaction)


async def say(interaction: discord.Interaction[Any], text: str, **extra: Any) -> None:
    """Answer only the person, whether or not the interaction was deferred."""
    if interaction.response.is_done():
        await interaction.followup.send(text, ephemeral=True, wait=True, **extra)
    else:
        await interaction.response.send_message(text, ephemeral=True, **extra)


async def server_facts(
    interaction: discord.Interaction[Any], *, defer: bool = True
) -> Facts | None:
    """Who asks, and in which server; None, once told, outside a server. Defers the answer."""
    facts = facts_of(interaction)
    if facts is None:
        await say(interaction, answers.NOT_IN_A_SERVER)
    elif defer:
        await interaction.response.defer(ephemeral=True, thinking=True)
    return facts


def bot_can_post(interaction: discord.Interaction[Any], channel_id: int) -> bool:
    """Whether the bot may post a game message in a channel, as Discord reports it."""
    if channel_id == interaction.channel_id:
        permissions = interaction.app_permissions
    else:
        guild = interaction.guild
        channel = guild.get_channel(channel_id) if guild is not None else None
        if guild is None or channel is None or guild.me is None:
            return True  # not in the cache: the post itself will tell, and be reported
        permissions = channel.permissions_for(guild.me)
    return permissions >= POSTING


class GameCommands(app_commands.Group):
    """The `/game` group."""

    def __init__(self, deps: CommandDeps) -> None:
        super().__init__(name="game", description="Create, list, edit and cancel games")
        self.deps = deps

    # create ----------------------------------------------------------------------------

    @app_commands.command(name="create", description="Create a game in this channel")
    @app_commands.describe(
        title="What is played (a template may give it)",
        when="When it starts, in your time zone: friday 8pm, tomorrow 19:30, 2027-01-15 20:00",
        seats="How many can play (more join the waitlist)",
        duration="How long it lasts: 90m, 2h, 1h30",
        reminders="When to remind players: 1d, 2h, 15m (or none)",
        where="Where it happens (a voice channel, a table, a link)",
        description="More about the game",
        channel="Post it there instead of here",
        repeat="Make it a series, at this time in the server's time zone",
        template="Start from one of the server's templates",
    )
    @app_commands.choices(
        repeat=[app_commands.Choice(name=label, value=key) for key, label in REPEAT_LABELS.items()]
    )
    async def create(
        self,
        interaction: discord.Interaction[Any],
        when: str,
        title: str | None = None,
        seats: int | None = None,
        duration: str | None = None,
        reminders: str | None = None,
        where: str | None = None,
        description: str | None = None,
        channel: discord.TextChannel | None = None,
        repeat: str | None = None,
        template: str | None = None,
    ) -> None:
        """Create a game (or a series) from what was typed."""
        facts = await server_facts(interaction)
        if facts is None:
            return
        request = CreateRequest(
            fields=GameFields(
                title=title,
                when=when,
                seats=None if seats is None else str(seats),
                duration=duration,
                reminders=reminders,
                where=where,
                description=description,
            ),
            channel_id=channel.id if channel is not None else None,
            template=template,
            repeat=repeat,
        )
        try:
            created = await self.deps.run(
                lambda session: create_from_command(
                    session,
                    facts,
                    request,
                    lambda channel_id: bot_can_post(interaction, channel_id),
                    now=self.deps.clock.now(),
                )
            )
        except Refusal as refusal:
            await say(interaction, str(refusal))
            return
        for game_id in created.game_ids:
            self.deps.on_game_changed(game_id)
        await say(interaction, created.text)

    @create.autocomplete("template")
    async def template_choices(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        """The server's templates this person may use, by name."""

        def pick(session: Session, caller: Caller) -> list[app_commands.Choice[str]]:
            found = template_store.usable_templates(
                session, caller.guild_id, caller.rights, current
            )
            return [app_commands.Choice(name=t.name, value=str(t.id)) for t in found[:CHOICES_MAX]]

        return await self._choices(interaction, pick)

    async def _choices(
        self,
        interaction: discord.Interaction[Any],
        pick: Callable[[Session, Caller], list[app_commands.Choice[str]]],
    ) -> list[app_commands.Choice[str]]:
        facts = facts_of(interaction)
        if facts is None:
            return []
        return await self.deps.run(lambda session: pick(session, load_caller(session, facts)))

    # list and mine ---------------------------------------------------------------------

    @app_commands.command(name="list", description="Upcoming games in this server")
    async def list_games(self, interaction: discord.Interaction[Any]) -> None:
        """List the server's games that have not ended."""
        facts = await server_facts(interaction)
        if facts is None:
            return
        games = await self.deps.run(
            lambda session: upcoming_games(session, facts.guild_id, LIST_LIMIT + 1)
        )
        if not games:
            await say(interaction, "No games are coming up here. Start one with `/game create`.")
            return
        lines = [f"Upcoming games here ({_count(games)}):"]
        lines += [_game_line(g) for g in games[:LIST_LIMIT]]
        await say(interaction, "\n".join(lines))

    @app_commands.command(name="mine", description="The games I host or joined here")
    async def mine(self, interaction: discord.Interaction[Any]) -> None:
        """List the person's own games in this server."""
        facts = await server_facts(interaction)
        if facts is None:
            return
        games = await self.deps.run(
            lambda session: games_of(session, facts.guild_id, facts.user_id, LIST_LIMIT + 1)
        )
        if not games:
            await say(
                interaction,
                "You host or joined no upcoming games here. `/game list` shows what is on.",
            )
            return
        lines = [f"Your games here ({_count(games)}):"]
        lines += [f"{_game_line(g)} ({_role_in(g, facts.user_id)})" for g in games[:LIST_LIMIT]]
        await say(interaction, "\n".join(lines))

    # edit ------------------------------------------------------------------------------

    @app_commands.command(name="edit", description="Change a game you host or manage")
    @app_commands.describe(game="The game to change")
    async def edit(self, interaction: discord.Interaction[Any], game: str) -> None:
        """Open a form with the game's current values."""
        facts = await server_facts(interaction, defer=False)
        if facts is None:
            return
        try:
            game_id, current = await self.deps.run(
                lambda session: self._to_change(session, facts, game, "edit")
            )
        except Refusal as refusal:
            await say(interaction, str(refusal))
            return
        form = EditGameForm(game_id, current, on_submit=self._submit_edit)
        await interaction.response.send_modal(form)

    async def _submit_edit(
        self, interaction: discord.Interaction[Any], game_id: uuid.UUID, fields: GameFields
    ) -> None:
        facts = await server_facts(interaction)
        if facts is None:
            return
        try:
            text = await self.deps.run(lambda session: self._edit(session, facts, game_id, fields))
        except Refusal as refusal:
            await say(interaction, str(refusal))
            return
        self.deps.on_game_changed(game_id)
        await say(interaction, text)

    def _edit(self, session: Session, facts: Facts, game_id: uuid.UUID, fields: GameFields) -> str:
        now = self.deps.clock.now()
        caller = load_caller(session, facts)
        game = find_game(session, caller, str(game_id))
        if game is None or not may_change(caller, game):
            raise Refusal("You may no longer change that game. Nothing was changed.")
        before = GameFields.of(game, caller.zone)
        if fields.unreadable:
            raise Refusal(fields.unreadable)
        changes: dict[str, Any] = {}
        note = None
        if fields.title != before.title:
            changes["title"] = fields.title or ""
        if fields.when != before.when:
            reading = read_when(fields.when or "", now=now, zone=caller.zone)
            if isinstance(reading, Unreadable):
                raise Refusal(when_reason(reading, caller) + " Nothing was changed.")
            changes["scheduled_at"] = reading.instant
            note = reading.note
        if fields.seats != before.seats:
            changes["max_players"] = seats_of(fields.seats)
        if fields.duration != before.duration:
            changes["expected_duration_minutes"] = minutes(fields.duration, "duration")
        if fields.reminders != before.reminders:
            reminders = reminders_of(fields.reminders)
            changes["reminder_minutes"] = [] if reminders is None else reminders
        if fields.where != before.where:
            check_length("where", fields.where, WHERE_MAX)
            changes["where"] = fields.where or None
        if fields.description != before.description:
            check_length("description", fields.description, DESCRIPTION_MAX)
            changes["description"] = fields.description or None
        if not changes:
            return f"Nothing to change: {answers.summary(game)}"
        game = checked(
            lambda: service.update_game(session, game_id, changes, now=now), fields, edit=True
        )
        lines = [f"Updated {answers.summary(game)}"]
        if note:
            lines.append(f"Note: {note}.")
        return "\n".join(lines)

    # cancel ----------------------------------------------------------------------------

    @app_commands.command(name="cancel", description="Cancel a game you host or manage")
    @app_commands.describe(game="The game to cancel", reason="Told to the players (optional)")
    async def cancel(
        self,
        interaction: discord.Interaction[Any],
        game: str,
        reason: app_commands.Range[str, 1, 500] | None = None,
    ) -> None:
        """Ask for confirmation before cancelling."""
        facts = await server_facts(interaction)
        if facts is None:
            return
        try:
            game_id, question = await self.deps.run(
                lambda session: self._cancel_question(session, facts, game)
            )
        except Refusal as refusal:
            await say(interaction, str(refusal))
            return
        confirmation = CancelConfirmation(
            facts.user_id, lambda: self._cancel(facts, game_id, reason)
        )
        await say(interaction, question, view=confirmation)

    def _cancel_question(self, session: Session, facts: Facts, value: str) -> tuple[uuid.UUID, str]:
        game_id, _ = self._to_change(session, facts, value, "cancel")
        game = service.get_game(session, game_id)
        players = len(build_roster(game.participants, game.max_players).confirmed)
        told = f" Its {players} player{'s' if players != 1 else ''} will see it." if players else ""
        return game_id, (
            f"Cancel {answers.title_of(game)} on {answers.when(game.scheduled_at)}?{told} "
            "This cannot be undone."
        )

    async def _cancel(self, facts: Facts, game_id: uuid.UUID, reason: str | None = None) -> str:
        def work(session: Session) -> str:
            caller = load_caller(session, facts)
            game = find_game(session, caller, str(game_id))
            if game is None or not may_change(caller, game):
                raise Refusal("You may no longer cancel that game. Nothing was changed.")
            try:
                cancelled = service.cancel_game(
                    session,
                    game_id,
                    now=self.deps.clock.now(),
                    cancelled_by=facts.user_id,
                    reason=reason,
                )
            except GameError as exc:
                raise Refusal(f"{answers.title_of(game)} cannot be cancelled: {exc}.") from exc
            return (
                f"Cancelled {answers.title_of(cancelled)} ({answers.when(cancelled.scheduled_at)})."
            )

        try:
            text = await self.deps.run(work)
        except Refusal as refusal:
            return str(refusal)
        self.deps.on_game_changed(game_id)
        return text

    # the game option -------------------------------------------------------------------

    def _to_change(
        self, session: Session, facts: Facts, value: str, verb: str
    ) -> tuple[uuid.UUID, GameFields]:
        caller = load_caller(session, facts)
        game = find_game(session, caller, value)
        if game is None:
            raise Refusal(
                f"I know no upcoming game `{value[:60]}` in this server: "
                "pick one from the list as you type."
            )
        if not may_change(caller, game):
            raise Refusal(
                f"You may not {verb} {answers.title_of(game)}: only its host <@{game.host_id}> "
                "and the server's managers may."
            )
        if game.status not in OPEN_STATUSES:
            state = game.status.lower().replace("_", " ")
            raise Refusal(f"{answers.title_of(game)} is {state}: it can no longer be changed.")
        return game.id, GameFields.of(game, caller.zone)

    @edit.autocomplete("game")
    @cancel.autocomplete("game")
    async def game_choices(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        """The games the person may change, by title and date, in their time zone."""

        def pick(session: Session, caller: Caller) -> list[app_commands.Choice[str]]:
            return [
                app_commands.Choice(name=_choice_name(g, caller.zone), value=str(g.id))
                for g in changeable_games(session, caller, current)
            ]

        return await self._choices(interaction, pick)


# helpers ------------------------------------------------------------------------------


def _count(games: Sequence[GameSession]) -> str:
    return f"the first {LIST_LIMIT}" if len(games) > LIST_LIMIT else str(len(games))


def _game_line(game: GameSession) -> str:
    roster = build_roster(game.participants, game.max_players)
    seats = (
        f"{len(roster.confirmed)}/{game.max_players}"
        if game.max_players
        else f"{len(roster.confirmed)}"
    )
    link = ""
    if game.message_id is not None:
        link = f" https://discord.com/channels/{game.guild_id}/{game.channel_id}/{game.message_id}"
    start = answers.when(game.scheduled_at)
    return f"• {answers.title_of(game)}, {start}, {seats} players, <#{game.channel_id}>{link}"


def _role_in(game: GameSession, user_id: int) -> str:
    if game.host_id == user_id:
        return "you host"
    roster = build_roster(game.participants, game.max_players)
    if any(p.user_id == user_id for p in roster.confirmed):
        return "you joined"
    return "you are on the waitlist"


def _choice_name(game: GameSession, zone: str) -> str:
    local = GameFields.local_text(game, zone)
    name = f"{game.title} · {local}"
    return name if len(name) <= 100 else name[:97] + "..."
