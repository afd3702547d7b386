"""GET / shows what users would see: messages, embeds, and buttons to press."""

from __future__ import annotations

import discord

from tests.fixtures.sandbox import SandboxHandle

CHANNEL_ID = 321_321_321_321_321_321


class JoinView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=None)
        self.add_item(discord.ui.Button(label="Join", custom_id="game:join"))
        self.add_item(discord.ui.Button(label="Full", custom_id="game:full", disabled=True))


async def _page(sandbox: SandboxHandle, query: str = "") -> str:
    async with sandbox.session.get(f"{sandbox.url}/{query}") as response:
        assert response.status == 200
        assert response.content_type == "text/html"
        return await response.text()


async def test_page_shows_embed_and_buttons_escaped(
    discord_client: discord.Client, discord_sandbox: SandboxHandle
) -> None:
    channel = await discord_client.fetch_channel(CHANNEL_ID)
    assert isinstance(channel, discord.TextChannel)
    embed = discord.Embed(
        title="<b>Dice & Dragons</b>", description="Bring snacks", colour=0xFF0000
    )
    embed.add_field(name="Players", value="1/4").set_footer(text="Starts soon")
    message = await channel.send("<script>alert(1)</script>", embed=embed, view=JoinView())
    await (await discord_client.fetch_user(42)).send("hello player")

    html = await _page(discord_sandbox)
    assert "&lt;b&gt;Dice &amp; Dragons&lt;/b&gt;" in html
    assert "<b>Dice" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "border-left-color:#ff0000" in html
    assert "Starts soon" in html
    assert f'data-message-id="{message.id}" data-custom-id="game:join">Join</button>' in html
    assert 'data-custom-id="game:full" disabled>Full</button>' in html
    assert "DM with user 42" in html
    assert "hello player" in html
    assert "development tool" in html

    fragment = await _page(discord_sandbox, "?fragment=1")
    assert "<html" not in fragment
    assert "Dice &amp; Dragons" in fragment


async def test_page_renders_discord_markup_as_a_client_would(
    discord_client: discord.Client, discord_sandbox: SandboxHandle
) -> None:
    channel = await discord_client.fetch_channel(CHANNEL_ID)
    assert isinstance(channel, discord.TextChannel)
    await channel.send("**Raid** <t:4102444800:F>, <t:4102444800:R>, host <@42> **<i>x</i>**")

    html = await _page(discord_sandbox)
    assert "<b>Raid</b>" in html
    assert "Friday 01 January 2100 00:00 UTC" in html
    assert ">in " in html
    assert " days</span>" in html
    assert '<span class="mention">@user42</span>' in html
    # Markup never lets raw HTML through: only what escaping left is marked up.
    assert "<b>&lt;i&gt;x&lt;/i&gt;</b>" in html
