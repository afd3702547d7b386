"""A person types a slash command into the sandbox page, and the real bot creates the game."""

from __future__ import annotations

import pytest
from playwright.async_api import async_playwright, expect

from tests.bot.commands.conftest import HOST_ID, World, fresh_id
from tests.fixtures.browser import CHROMIUM_ARGS

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="package")]


async def test_a_command_typed_on_the_page_creates_the_game(
    world: World, chromium_path: str
) -> None:
    channel_id = fresh_id()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium_path, headless=True, args=list(CHROMIUM_ARGS)
        )
        try:
            page = await browser.new_page()
            await page.goto(world.sandbox.url + "/")
            await page.get_by_label("Act as user id").fill(str(HOST_ID))
            await page.get_by_label("in channel").fill(str(channel_id))
            await page.get_by_label("Command", exact=True).fill(
                "/game create title:Page raid when:friday 8pm seats:4"
            )
            await page.get_by_role("button", name="Send").click()
            answer = page.locator("#command-answer")
            await expect(answer).to_contain_text("Created **Page raid**", timeout=10_000)
            await expect(answer).to_contain_text("in Europe/Berlin as Friday")
        finally:
            await browser.close()
    [game] = world.games(channel_id=channel_id)
    assert (game.title, game.max_players) == ("Page raid", 4)
