"""Slash commands through the sandbox reach a real discord.py CommandTree, and back."""

from __future__ import annotations

from collections.abc import AsyncIterator

import discord
import pytest
import pytest_asyncio
from discord import app_commands

from tests.fixtures.sandbox import GUILD_READY_TIMEOUT, SandboxHandle, connected_client

GUILD_ID = 900_000_000_000_000_001
CHANNEL_ID = 444_555_666_777_888_999
PLAYER_ID = 123_123_123_123_123_123


class Rename(discord.ui.Modal, title="Rename"):
    """A modal with the current value filled in."""

    name: discord.ui.TextInput[Rename] = discord.ui.TextInput(label="Name", default="old")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"renamed to {self.name.value}", ephemeral=True)


def _tree(client: discord.Client) -> app_commands.CommandTree[discord.Client]:
    tree: app_commands.CommandTree[discord.Client] = app_commands.CommandTree(client)
    group = app_commands.Group(name="game", description="Games")

    @group.command(name="create", description="Create a game")
    async def create(
        interaction: discord.Interaction,
        title: str,
        seats: int | None = None,
        channel: discord.TextChannel | None = None,
    ) -> None:
        where = channel.id if channel else interaction.channel_id
        await interaction.response.send_message(
            f"{title} for {seats} in {where} by {interaction.user.id}", ephemeral=True
        )

    @group.command(name="slow", description="Think first")
    async def slow(interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await interaction.followup.send("thought about it", ephemeral=True)

    @group.command(name="rename", description="Open a modal")
    async def rename(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(Rename())

    @group.command(name="pick", description="Autocomplete")
    async def pick(interaction: discord.Interaction, game: str) -> None:
        await interaction.response.send_message(f"picked {game}", ephemeral=True)

    @pick.autocomplete("game")
    async def pick_game(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        names = ["Raid", "Catan", "Raid night"]
        return [
            app_commands.Choice(name=n, value=n.lower())
            for n in names
            if current.lower() in n.lower()
        ]

    tree.add_command(group)
    return tree


@pytest_asyncio.fixture
async def synced(discord_sandbox: SandboxHandle) -> AsyncIterator[discord.Client]:
    client = discord.Client(
        intents=discord.Intents.default(), guild_ready_timeout=GUILD_READY_TIMEOUT
    )
    tree = _tree(client)
    async with connected_client(discord_sandbox, client):
        await tree.sync()
        yield client


async def test_sync_registers_the_commands_and_keeps_their_ids(
    synced: discord.Client, discord_sandbox: SandboxHandle
) -> None:
    state = await discord_sandbox.state()
    assert state["commands"]["global"] == ["game"]
    tree = synced._connection._command_tree
    assert tree is not None
    first = await tree.fetch_commands()
    again = await tree.sync()
    assert [c.id for c in again] == [c.id for c in first]
    assert (await discord_sandbox.state())["commands"]["overwrites"] == 2


async def test_a_command_is_answered_with_the_bots_message(
    synced: discord.Client, discord_sandbox: SandboxHandle
) -> None:
    result = await discord_sandbox.command(
        "game", "create", user_id=PLAYER_ID, channel_id=CHANNEL_ID, title="Raid", seats="4"
    )
    assert result["answered"] is True
    assert result["response"]["content"] == f"Raid for 4 in {CHANNEL_ID} by {PLAYER_ID}"
    assert result["response"]["ephemeral"] is True
    assert result["response"]["command"] == "game create"


async def test_a_channel_option_is_resolved(
    synced: discord.Client, discord_sandbox: SandboxHandle
) -> None:
    other = CHANNEL_ID + 1
    result = await discord_sandbox.command(
        "game", "create", user_id=PLAYER_ID, channel_id=CHANNEL_ID, title="Raid", channel=str(other)
    )
    assert result["response"]["content"] == f"Raid for None in {other} by {PLAYER_ID}"


async def test_a_deferred_answer_arrives_as_a_followup(
    synced: discord.Client, discord_sandbox: SandboxHandle
) -> None:
    result = await discord_sandbox.command("game", "slow", user_id=PLAYER_ID, channel_id=CHANNEL_ID)
    assert result["answered"] is True
    assert result["response"]["type"] == 5
    assert [f["content"] for f in result["response"]["followups"]] == ["thought about it"]


async def test_a_modal_opens_with_its_values_and_is_submitted(
    synced: discord.Client, discord_sandbox: SandboxHandle
) -> None:
    opened = await discord_sandbox.command(
        "game", "rename", user_id=PLAYER_ID, channel_id=CHANNEL_ID
    )
    modal = opened["response"]["modal"]
    assert opened["response"]["type"] == 9
    assert modal["title"] == "Rename"
    field = modal["components"][0]
    text_input = field.get("component") or field["components"][0]
    assert text_input["value"] == "old"
    result = await discord_sandbox.submit_modal(
        opened["interaction_id"], modal["custom_id"], PLAYER_ID, {text_input["custom_id"]: "new"}
    )
    assert result["response"]["content"] == "renamed to new"


async def test_autocomplete_returns_the_bots_choices(
    synced: discord.Client, discord_sandbox: SandboxHandle
) -> None:
    choices = await discord_sandbox.autocomplete(
        "game", "pick", focused="game", user_id=PLAYER_ID, channel_id=CHANNEL_ID, game="rai"
    )
    assert choices == [
        {"name": "Raid", "value": "raid"},
        {"name": "Raid night", "value": "raid night"},
    ]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"name": "nope"}, "no command /nope"),
        ({"name": "game", "subcommand": "create"}, "needs title"),
        (
            {"name": "game", "subcommand": "create", "options": {"title": "x", "colour": "red"}},
            "no option colour",
        ),
        (
            {"name": "game", "subcommand": "create", "options": {"title": "x", "seats": "four"}},
            "whole number",
        ),
        ({"name": "game"}, "needs a subcommand"),
    ],
)
async def test_commands_discord_would_not_send_are_refused(
    synced: discord.Client, discord_sandbox: SandboxHandle, body: dict[str, object], reason: str
) -> None:
    full = {"user_id": str(PLAYER_ID), "channel_id": str(CHANNEL_ID), **body}
    async with discord_sandbox.session.post(
        f"{discord_sandbox.url}/sandbox/command", json=full
    ) as response:
        assert response.status == 400
        assert reason in (await response.json())["error"]


async def test_a_channel_the_bot_may_not_post_in_refuses_its_messages(
    synced: discord.Client, discord_sandbox: SandboxHandle
) -> None:
    async with discord_sandbox.session.post(
        f"{discord_sandbox.url}/sandbox/bot-permissions",
        json={"channel_id": str(CHANNEL_ID), "deny": str(1 << 11)},
    ) as response:
        assert response.status == 200
    channel = await synced.fetch_channel(CHANNEL_ID)
    assert isinstance(channel, discord.TextChannel)
    with pytest.raises(discord.Forbidden):
        await channel.send("hello")
