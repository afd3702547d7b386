"""Button presses through /sandbox/click reach real discord.ui.View callbacks."""

from __future__ import annotations

import discord

from tests.fixtures.sandbox import SandboxHandle

CHANNEL_ID = 444_555_666_777_888_999
PLAYER_ID = 123_123_123_123_123_123


class GameView(discord.ui.View):
    """A view like the bot's: Join answers ephemerally, Count updates the message."""

    def __init__(self) -> None:
        super().__init__(timeout=None)
        self.pressed_by: list[int] = []
        self.count = 0

    @discord.ui.button(label="Join", custom_id="game:join", style=discord.ButtonStyle.success)
    async def join(
        self, interaction: discord.Interaction, button: discord.ui.Button[GameView]
    ) -> None:
        self.pressed_by.append(interaction.user.id)
        await interaction.response.send_message(
            f"You joined, {interaction.user.name}", ephemeral=True
        )

    @discord.ui.button(label="Count", custom_id="game:count")
    async def bump(
        self, interaction: discord.Interaction, button: discord.ui.Button[GameView]
    ) -> None:
        self.count += 1
        await interaction.response.edit_message(content=f"{self.count} players")

    @discord.ui.button(label="Slow", custom_id="game:slow")
    async def slow(
        self, interaction: discord.Interaction, button: discord.ui.Button[GameView]
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await interaction.followup.send("done thinking", ephemeral=True)

    @discord.ui.button(label="Closed", custom_id="game:closed", disabled=True)
    async def closed(
        self, interaction: discord.Interaction, button: discord.ui.Button[GameView]
    ) -> None:
        raise AssertionError("a disabled button cannot be pressed")


async def _post(client: discord.Client, view: GameView) -> discord.Message:
    channel = await client.fetch_channel(CHANNEL_ID)
    assert isinstance(channel, discord.TextChannel)
    return await channel.send("Game night", view=view)


async def test_click_reaches_the_view_and_the_ephemeral_answer_is_recorded(
    discord_client: discord.Client, discord_sandbox: SandboxHandle
) -> None:
    view = GameView()
    message = await _post(discord_client, view)
    result = await discord_sandbox.click(message.id, "game:join", PLAYER_ID)
    assert result["delivered"] == 1
    assert result["answered"] is True
    assert result["response"]["content"] == f"You joined, user{PLAYER_ID}"
    assert result["response"]["ephemeral"] is True
    assert view.pressed_by == [PLAYER_ID]
    state = await discord_sandbox.state()
    assert state["interactions"][result["interaction_id"]]["type"] == 4
    # Only the presser sees an ephemeral answer: the channel holds just the game message.
    assert [m["id"] for m in state["channels"][str(CHANNEL_ID)]] == [str(message.id)]


async def test_edit_message_response_updates_the_game_message(
    discord_client: discord.Client, discord_sandbox: SandboxHandle
) -> None:
    message = await _post(discord_client, GameView())
    await discord_sandbox.click(message.id, "game:count", PLAYER_ID)
    result = await discord_sandbox.click(message.id, "game:count", PLAYER_ID + 1)
    assert result["response"]["type"] == 7
    (stored,) = (await discord_sandbox.state())["channels"][str(CHANNEL_ID)]
    assert stored["content"] == "2 players"
    assert stored["edits"] == 2
    assert stored["components"][0]["components"][0]["custom_id"] == "game:join"


async def test_deferred_answer_arrives_as_a_followup(
    discord_client: discord.Client, discord_sandbox: SandboxHandle
) -> None:
    message = await _post(discord_client, GameView())
    result = await discord_sandbox.click(message.id, "game:slow", PLAYER_ID)
    assert result["answered"] is True
    assert result["response"]["type"] == 5
    assert result["response"]["followups"][0]["content"] == "done thinking"
    assert result["response"]["followups"][0]["ephemeral"] is True


async def test_disabled_or_unknown_buttons_cannot_be_clicked(
    discord_client: discord.Client, discord_sandbox: SandboxHandle
) -> None:
    message = await _post(discord_client, GameView())
    url = f"{discord_sandbox.url}/sandbox/click"
    for custom_id, message_id in (("game:closed", message.id), ("nope", message.id), ("x", 5)):
        body = {"message_id": str(message_id), "custom_id": custom_id, "user_id": "9"}
        async with discord_sandbox.session.post(url, json=body) as response:
            assert response.status in (400, 404)


async def test_click_with_no_bot_connected_is_recorded_but_unanswered(
    discord_sandbox: SandboxHandle,
) -> None:
    url = f"{discord_sandbox.api_base}/channels/{CHANNEL_ID}/messages"
    button = {"type": 2, "style": 1, "label": "Join", "custom_id": "join"}
    body = {"content": "g", "components": [{"type": 1, "components": [button]}]}
    headers = {"Authorization": "Bot t"}
    async with discord_sandbox.session.post(url, json=body, headers=headers) as response:
        message = await response.json()
    result = await discord_sandbox.click(message["id"], "join", PLAYER_ID)
    assert result["delivered"] == 0
    assert result["answered"] is False


async def test_button_in_a_dm_is_pressed_by_that_user(
    discord_client: discord.Client, discord_sandbox: SandboxHandle
) -> None:
    view = GameView()
    user = await discord_client.fetch_user(PLAYER_ID)
    message = await user.send("Still coming?", view=view)
    result = await discord_sandbox.click(message.id, "game:join", PLAYER_ID)
    assert result["response"]["content"] == f"You joined, user{PLAYER_ID}"
    assert view.pressed_by == [PLAYER_ID]
