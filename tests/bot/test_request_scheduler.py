"""The request scheduler: Discord's global budget, never exceeded, most urgent first."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import discord
import pytest
import pytest_asyncio
from sqlalchemy.orm import Session, sessionmaker

from game_scheduler.bot.direct_messages import DirectMessenger, Recipient
from game_scheduler.bot.request_scheduler import RequestScheduler, Urgency, request_urgency
from game_scheduler.sandbox.state import Channel
from tests.fixtures.sandbox import GUILD_READY_TIMEOUT, SandboxHandle, connected_client


def most_in_one_second(times: list[float]) -> int:
    """The most grants that fall in any window of one second."""
    times = sorted(times)
    return max(sum(1 for t in times[i:] if t < start + 1.0) for i, start in enumerate(times))


async def test_turns_never_exceed_the_limit_in_any_second() -> None:
    scheduler = RequestScheduler(rate=40, limit=10, burst=3)
    granted: list[float] = []

    async def one() -> None:
        await scheduler.acquire(Urgency.REFRESH)
        granted.append(time.monotonic())

    started = time.monotonic()
    await asyncio.gather(*(one() for _ in range(25)))
    scheduler.close()

    assert len(granted) == 25
    assert most_in_one_second(granted) <= 10
    assert time.monotonic() - started >= 2.0  # 25 turns at 10 a second


async def test_the_most_urgent_waiter_is_served_first() -> None:
    scheduler = RequestScheduler(rate=20, burst=1)
    await scheduler.acquire()  # the only free turn: everyone below waits
    served: list[Urgency] = []

    async def one(urgency: Urgency) -> None:
        with request_urgency(urgency):
            await scheduler.acquire()
        served.append(urgency)

    arrivals = [Urgency.BACKGROUND, Urgency.POST, Urgency.REFRESH, Urgency.REMINDER]
    arrivals += [Urgency.STATUS, Urgency.BACKGROUND, Urgency.STATUS, Urgency.POST]
    await asyncio.gather(*(one(u) for u in arrivals))
    scheduler.close()

    assert served == sorted(arrivals)


SANDBOX_LIMIT = 10  # per second, lowered so that the test is short


@pytest_asyncio.fixture
async def paced_client(discord_sandbox: SandboxHandle) -> AsyncIterator[discord.Client]:
    """A discord.py client whose every request waits for the request scheduler."""
    scheduler = RequestScheduler(rate=SANDBOX_LIMIT * 0.8, limit=SANDBOX_LIMIT)
    client = discord.Client(
        intents=discord.Intents.none(),
        guild_ready_timeout=GUILD_READY_TIMEOUT,
        http_trace=scheduler.trace_config(discord_sandbox.api_base),
    )
    discord_sandbox.state_object.rate_limiter.global_limit.configure(SANDBOX_LIMIT)
    async with connected_client(discord_sandbox, client) as ready:
        yield ready
    scheduler.close()


@pytest.mark.integration
async def test_dms_through_the_scheduler_meet_no_global_429_and_open_each_channel_once(
    paced_client: discord.Client,
    discord_sandbox: SandboxHandle,
    session_factory: sessionmaker[Session],
) -> None:
    messenger = DirectMessenger(paced_client, session_factory)
    players = [555_000_000_000_000_000 + i for i in range(8)]
    opened: list[int] = []
    state = discord_sandbox.state_object
    open_dm = state.open_dm

    def counting_open_dm(user_id: int) -> Channel:
        opened.append(user_id)
        return open_dm(user_id)

    state.open_dm = counting_open_dm  # type: ignore[method-assign]
    started = time.monotonic()
    for scope in ("first", "second"):
        await messenger.deliver(
            kind="reminder",
            scope=scope,
            recipients=[Recipient(p, f"reminder {scope}") for p in players],
            channel_id=None,
            channel_text="",
        )

    snapshot = await discord_sandbox.state()
    assert snapshot["limits"]["global_429s"] == 0
    assert sorted(opened) == players  # once per player, not once per DM
    for player in players:
        assert [m["content"] for m in snapshot["dms"][str(player)]] == [
            "reminder first",
            "reminder second",
        ]
    # 24 requests at 8 a second, after a login that used the budget too.
    assert time.monotonic() - started >= 1.5


async def test_background_work_waits_while_more_urgent_requests_wait() -> None:
    scheduler = RequestScheduler(rate=20, burst=1)
    await scheduler.acquire()  # the only free turn: the next ones wait
    status = asyncio.create_task(scheduler.acquire(Urgency.STATUS))
    background = asyncio.create_task(scheduler.acquire(Urgency.BACKGROUND))
    await asyncio.sleep(0)
    calm = asyncio.create_task(scheduler.calm())

    await asyncio.sleep(0.01)
    assert not calm.done()  # the status edit still waits for its turn
    await status
    await asyncio.wait_for(calm, 1)  # only background work waits now
    assert not background.done()
    await background
    scheduler.close()
