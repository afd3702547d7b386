"""A host and a member use the dashboard in a real browser, against the running system.

Headless Chromium (Debian's package) through Playwright, on `game-scheduler run`: the
API with its dashboard, the bot, the schedulers and the Discord sandbox, each a process.
People sign in through the sandbox's Discord authorize page. Screenshots of the main
pages are saved to docs/screenshots/ for the README.

The tests run in file order and share one server in the sandbox: the host creates the
game the member then joins and the host finally cancels, as people would.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.fixtures.browser import SCREENSHOTS
from tests.fixtures.system import RunningSystem, eventually

pytestmark = pytest.mark.integration

ZONE = "Europe/Berlin"
HOST = {"user_id": "810000000000000001", "username": "hana"}
MEMBER = {"user_id": "810000000000000002", "username": "milo"}
MANAGE_GUILD = str(1 << 5)
WAIT = 15_000  # milliseconds: the bot and the live poll have this long to catch up


class Server:
    """The sandbox server the tests use, and the game they share."""

    guild_id = str(810_000_000_000_000_000 + uuid.uuid4().int % 10**12)
    channel_id = str(int(guild_id) + 7)
    name = "Board Gamers"
    game_url: str | None = None


@pytest.fixture(scope="module")
def system(live_system: RunningSystem) -> RunningSystem:
    """The running system, with our server in its sandbox."""
    with live_system.sandbox() as sandbox:
        response = sandbox.post(
            "/sandbox/guilds",
            json={
                "guild_id": Server.guild_id,
                "name": Server.name,
                "owner_id": HOST["user_id"],
                "roles": [
                    {
                        "id": str(int(Server.guild_id) + 1),
                        "name": "Organisers",
                        "permissions": MANAGE_GUILD,
                    }
                ],
                "members": [
                    {**HOST, "roles": [str(int(Server.guild_id) + 1)]},
                    {**MEMBER, "roles": []},
                ],
                "channels": [{"id": Server.channel_id, "name": "game-nights"}],
            },
        )
        assert response.status_code in (200, 201), response.text
    return live_system


def _context(browser: Browser, system: RunningSystem, **options: Any) -> BrowserContext:
    context = browser.new_context(base_url=system.api_url, **options)
    context.set_default_timeout(WAIT)
    return context


def sign_in(page: Page, system: RunningSystem, person: dict[str, str]) -> None:
    """Sign in with Discord: the sandbox's authorize page, approving as `person`."""
    page.goto("/")
    page.get_by_role("link", name="Sign in with Discord").first.click()
    page.wait_for_url(re.compile(re.escape(system.sandbox_url) + r"/oauth2/authorize"))
    page.goto(page.url + f"&login_as={person['user_id']}")
    page.wait_for_url(system.api_url + "/")
    expect(page.get_by_text(f"Signed in as {person['username']}")).to_be_visible()


@pytest.fixture(scope="module")
def host(browser: Browser, system: RunningSystem) -> Iterator[Page]:
    """The host's browser, signed in, kept open across the tests."""
    context = _context(browser, system, viewport={"width": 1100, "height": 800})
    page = context.new_page()
    sign_in(page, system, HOST)
    yield page
    context.close()


@pytest.fixture(scope="module")
def member(browser: Browser, system: RunningSystem) -> Iterator[Page]:
    """Another member's browser, on a phone-sized screen."""
    context = _context(browser, system, viewport={"width": 390, "height": 844})
    page = context.new_page()
    sign_in(page, system, MEMBER)
    yield page
    context.close()


def _shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _game_message(system: RunningSystem, title: str) -> dict[str, Any] | None:
    with httpx.Client(base_url=system.sandbox_url, timeout=5) as sandbox:
        channels = sandbox.get("/sandbox/state").json()["channels"]
    for message in channels.get(Server.channel_id, []):
        if message["embeds"] and message["embeds"][0].get("title", "").endswith(title):
            return message  # type: ignore[no-any-return]
    return None


def test_a_host_sets_the_zone_creates_a_game_and_sees_it_in_discord(
    host: Page, system: RunningSystem
) -> None:
    host.get_by_role("link", name=Server.name).click()
    host.get_by_role("link", name="Server settings").click()
    host.get_by_label("Time zone").fill(ZONE)
    host.get_by_role("button", name="Save settings").click()
    expect(host.get_by_text("Settings saved.")).to_be_visible()
    _shot(host, "settings")

    host.get_by_role("link", name=Server.name).click()
    host.get_by_role("link", name="New game").click()
    expect(host.get_by_text(f"in {ZONE}")).to_be_visible()
    # A mistake first: the form says what is wrong beside the field and keeps the rest.
    host.get_by_label("Title").fill("Catan night")
    host.get_by_label("Seats").fill("0")
    host.get_by_role("button", name="Create game").click()
    expect(host.get_by_text("must be at least 1")).to_be_visible()
    expect(host.get_by_label("Title")).to_have_value("Catan night")
    _shot(host, "new-game")

    starts = (datetime.now(ZoneInfo(ZONE)) + timedelta(days=3)).replace(
        hour=20, minute=0, second=0, microsecond=0
    )
    host.get_by_label("Description").fill("Bring snacks. New players welcome.")
    host.get_by_label("Where").fill("Kitchen table")
    host.get_by_label("Channel").select_option(label="#game-nights")
    host.get_by_label("Date").fill(f"{starts:%Y-%m-%d}")
    host.get_by_label(re.compile(r"^Time \(")).fill("20:00")
    host.get_by_label("Duration (minutes)").fill("150")
    host.get_by_label("Seats").fill("4")
    host.get_by_label("1 day before").check()
    host.get_by_label("1 hour before").uncheck()
    host.get_by_role("button", name="Create game").click()

    expect(host.get_by_text("Game created")).to_be_visible()
    expect(host.get_by_role("heading", name="Catan night")).to_be_visible()
    expect(host.get_by_text(f"{starts:%a %d %b %Y}, 20:00 ({ZONE})")).to_be_visible()
    Server.game_url = host.url.split("?")[0]

    message = eventually(lambda: _game_message(system, "Catan night"), 20, "the Discord post")
    assert f"<t:{int(starts.timestamp())}:F>" in str(message["embeds"][0])
    expect(host.get_by_role("link", name="Open the Discord message")).to_be_visible()

    host.get_by_role("link", name=Server.name).click()
    expect(host.get_by_role("link", name="Catan night")).to_be_visible()
    _shot(host, "server")


def test_a_member_joins_and_the_hosts_open_page_follows(
    host: Page, member: Page, system: RunningSystem
) -> None:
    assert Server.game_url is not None
    host.goto(Server.game_url)
    expect(host.get_by_text("Nobody has joined yet.")).to_be_visible()
    host.evaluate("window.notReloaded = true")

    member.goto(Server.game_url)
    member.get_by_role("button", name="Join").click()
    expect(member.get_by_text("You joined the game.")).to_be_visible()
    expect(member.get_by_role("button", name="Leave")).to_be_visible()
    _shot(member, "game-phone")

    roster = host.get_by_role("list", name="Confirmed players")
    expect(roster.get_by_text(MEMBER["username"])).to_be_visible()
    assert host.evaluate("window.notReloaded") is True
    eventually(
        lambda: "1/4" in str((_game_message(system, "Catan night") or {}).get("embeds")),
        20,
        "the Discord message counting the player",
    )
    host.get_by_label("Name").fill("Grandma")
    host.get_by_role("button", name="Add player").click()
    expect(roster.get_by_text("Grandma")).to_be_visible()
    expect(roster.get_by_text("not on Discord", exact=True)).to_be_visible()
    _shot(host, "game")
    member.goto("/")
    expect(member.get_by_text("Confirmed")).to_be_visible()
    _shot(member, "home-phone")


def test_a_plain_member_cannot_create_games(member: Page, system: RunningSystem) -> None:
    member.goto(f"/servers/{Server.guild_id}")
    expect(member.get_by_role("heading", name=Server.name)).to_be_visible()
    expect(member.get_by_role("link", name="New game")).to_have_count(0)
    csrf = member.locator("input[name=csrf_token]").first.get_attribute("value")
    refused = member.request.post(
        f"/servers/{Server.guild_id}/games/new",
        form={"csrf_token": csrf or "", "title": "Sneaky", "date": "2030-01-01", "time": "20:00"},
    )
    assert refused.status == 403
    assert "Only the server" in refused.text()


def test_the_host_cancels_and_everyone_sees_it(
    host: Page, member: Page, system: RunningSystem
) -> None:
    assert Server.game_url is not None
    member.goto(Server.game_url)
    host.goto(Server.game_url)
    host.get_by_role("link", name="Cancel game").click()
    _shot(host, "cancel")
    host.get_by_role("button", name="Yes, cancel the game").click()
    expect(host.get_by_text("Game cancelled.")).to_be_visible()
    expect(member.locator("#game-status")).to_have_text("Cancelled")  # no reload
    expect(member.get_by_role("button", name="Leave")).to_have_count(0)

    def cancelled_in_discord() -> bool:
        message = _game_message(system, "Catan night")
        return message is not None and message["embeds"][0]["title"] == "[Cancelled] Catan night"

    eventually(cancelled_in_discord, 20, "the Discord message showing the cancellation")
