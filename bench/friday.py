"""Friday 8 pm: many games start in the same minute, against Discord's global rate limit.

Case "friday": N games (default 1,000) in N channels of one server, 4 players each (all
different people), a reminder due at T and the start at T+60 s. The real pipeline runs
as processes (outbox, notifications and status-transitions daemons, the bot), the
sandbox in this process with its global limit on (50 requests per second). It reports,
for the reminder DMs and for the start edits: the Discord requests they needed, the
floor (requests / 50 per second), the time from due to the last one the sandbox recorded,
the ratio to the floor, p50/p99 per item, the 429s met, missed and duplicated.

The start edits outrank the reminders (docs/bot.md) and come due while the reminders
are still going out when R/50 > 60 s, so no order can finish the reminders in R/50: the
reminders' floor is (R + S)/50 then ("floor_s"; "floor_alone_s" is R/50).

Case "stale": 15,000 events that need no Discord call already queued (duplicates, games
that no longer exist, refreshes of games whose message shows them), then one new game:
how long until its message is posted, and how fast the no-ops are handled.

    .venv/bin/python bench/friday.py [--games 1000] [--stale 15000] [--case friday|stale|both]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pika
from aiohttp import web
from sqlalchemy import insert

from _support import fresh_database, fresh_vhost, percentile
from game_scheduler.db.engine import make_engine, make_session_factory
from game_scheduler.db.models import GameParticipant, ProcessedMessage
from game_scheduler.games import service
from game_scheduler.messaging.events import Event, EventType
from game_scheduler.messaging.publisher import OutgoingMessage, PikaPublisher
from game_scheduler.messaging.schemas import GameReminderDueEvent, GameUpdatedEvent
from game_scheduler.messaging.topology import DEFAULT_TOPOLOGY
from game_scheduler.sandbox.app import create_app
from game_scheduler.sandbox.http_layer import STATE_KEY
from game_scheduler.sandbox.state import Channel, SandboxState, StoredMessage

GLOBAL_PER_S = 50
PLAYERS = 4
GUILD = 1
BASE_CHANNEL = 710_000_000_000_000_000
BASE_USER = 720_000_000_000_000_000
TARGET_RATIO = 1.15
REMINDER_MARK = "** starts <t:"  # in every reminder DM (formatters.game_message.reminder_text)


class Recorder:
    """Hooks the sandbox: when each DM, post and edit was recorded, and DM channels opened."""

    def __init__(self, state: SandboxState) -> None:
        self.dms: dict[int, list[float]] = defaultdict(list)  # reminder DMs per user
        self.other_dms: list[float] = []  # other DMs (join news, check-ins, ...)
        self.posts: dict[int, float] = {}  # channel id -> first post time
        self.edits: dict[int, list[float]] = defaultdict(list)  # message id -> edit times
        self.opens: list[float] = []
        create, edit, open_dm = state.create_message, state.edit_message, state.open_dm

        def create_message(channel: Channel, body: dict[str, Any], author: Any = None) -> Any:
            data = create(channel, body, author)
            if channel.recipient_id is not None:
                if REMINDER_MARK in str(body.get("content", "")):
                    self.dms[channel.recipient_id].append(time.time())
                else:
                    self.other_dms.append(time.time())
            else:
                self.posts.setdefault(channel.id, time.time())
            return data

        def edit_message(stored: StoredMessage, body: dict[str, Any]) -> Any:
            self.edits[int(stored.data["id"])].append(time.time())
            return edit(stored, body)

        def open_dm_channel(user_id: int) -> Channel:
            if user_id not in state.dm_channel_by_user:
                self.opens.append(time.time())
            return open_dm(user_id)

        state.create_message = create_message  # type: ignore[method-assign]
        state.edit_message = edit_message  # type: ignore[method-assign]
        state.open_dm = open_dm_channel  # type: ignore[method-assign]


def spawn(module: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start one of our processes (the bot under cProfile when BENCH_PROFILE_BOT names a file)."""
    profile = os.environ.get("BENCH_PROFILE_BOT")
    if profile and module == "game_scheduler.bot.bot":
        return subprocess.Popen(
            [sys.executable, "-m", "cProfile", "-o", profile, "-m", module], env=env
        )
    return subprocess.Popen([sys.executable, "-m", module], env=env)


async def start_sandbox() -> tuple[web.AppRunner, SandboxState, int]:
    """The sandbox on a free port, in this process (its clock is the measurement's)."""
    app = create_app()
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    state = app[STATE_KEY]
    state.rate_limiter.global_limit.configure(GLOBAL_PER_S)
    return runner, state, runner.addresses[0][1]


def environment(database_url: str, rabbitmq_url: str, port: int) -> dict[str, str]:
    """What our processes are started with."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "RABBITMQ_URL": rabbitmq_url,
        "DISCORD_API_BASE": f"http://127.0.0.1:{port}/api/v10",
        "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
    }
    env.pop("DISCORD_BOT_TOKEN", None)
    return env


def stop(processes: list[subprocess.Popen[bytes]]) -> list[int]:
    """Terminate our processes; their exit codes."""
    for process in processes:
        process.terminate()
    return [process.wait(timeout=60) for process in processes]


def create_games(
    database_url: str, count: int, scheduled_at: datetime, players: int, reminder: bool
) -> dict[uuid.UUID, tuple[int, list[int]]]:
    """N games in N channels, `players` different people in each; game -> (channel, users)."""
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    made: dict[uuid.UUID, tuple[int, list[int]]] = {}
    now = datetime.now(UTC)
    try:
        for start in range(0, count, 200):
            with sessions.begin() as session:
                for i in range(start, min(start + 200, count)):
                    game = service.create_game(
                        session,
                        service.NewGame(
                            guild_id=GUILD,
                            channel_id=BASE_CHANNEL + i,
                            host_id=2,
                            title=f"Friday game {i}",
                            scheduled_at=scheduled_at,
                            max_players=players,
                            reminder_minutes=(1,) if reminder else (),
                        ),
                        now=now,
                    )
                    users = [BASE_USER + i * players + p for p in range(players)]
                    # Players who joined long ago: no join news now, only the post.
                    session.add_all(GameParticipant(game_id=game.id, user_id=u) for u in users)
                    made[game.id] = (BASE_CHANNEL + i, users)
    finally:
        engine.dispose()
    return made


def message_ids(database_url: str, games: list[uuid.UUID]) -> dict[uuid.UUID, int | None]:
    """Each game's Discord message id as stored."""
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine).begin() as session:
            return {g: service.get_game(session, g).message_id for g in games}
    finally:
        engine.dispose()


def summary(
    due: float, times: list[float], requests: int, floor_s: float, **extra: Any
) -> dict[str, Any]:
    """One group's numbers: last one after due, ratio to the floor, p50/p99 per item."""
    latencies = sorted(t - due for t in times)
    last = latencies[-1] if latencies else None
    return {
        "requests": requests,
        "floor_s": round(floor_s, 2),
        **extra,
        "last_after_due_s": round(last, 2) if last is not None else None,
        "ratio_to_floor": round(last / floor_s, 3) if last is not None and floor_s else None,
        "p50_s": round(statistics.median(latencies), 2) if latencies else None,
        "p99_s": round(percentile(latencies, 99), 2) if latencies else None,
    }


async def friday(games: int) -> dict[str, Any]:
    """The Friday case, from a fresh database, vhost and sandbox."""
    with fresh_database("gs_bench_friday") as database_url, fresh_vhost("gs-friday") as amqp:
        runner, state, port = await start_sandbox()
        recorder = Recorder(state)
        env = environment(database_url, amqp, port)
        processes = [
            spawn("game_scheduler.bot.bot", env),
            spawn("game_scheduler.scheduler.outbox_daemon_wrapper", env),
            spawn("game_scheduler.scheduler.notification_daemon_wrapper", env),
            spawn("game_scheduler.scheduler.status_transition_daemon_wrapper", env),
        ]
        try:
            await asyncio.sleep(3)  # the bot logs in and declares the topology
            # Time to post every game first (at 46 per second) before the reminders.
            lead = timedelta(seconds=games / 40 + 15)
            reminder_at = datetime.now(UTC) + lead
            start_at = reminder_at + timedelta(seconds=60)
            made = await asyncio.to_thread(
                create_games, database_url, games, start_at, PLAYERS, True
            )
            await asyncio.sleep(max((reminder_at - datetime.now(UTC)).total_seconds(), 0))
            posted_before_due = len(recorder.posts)
            opens_before, limited_before = len(recorder.opens), state.rate_limiter.snapshot()
            t_reminder, t_start = reminder_at.timestamp(), start_at.timestamp()
            players = [u for _, users in made.values() for u in users]
            expected_s = (2 * len(players) + games) / 40 + 90
            deadline = time.monotonic() + expected_s
            ids: dict[uuid.UUID, int | None] = {}
            while time.monotonic() < deadline:
                await asyncio.sleep(2)
                if time.time() < t_start + 1:
                    continue
                if not ids or None in ids.values():
                    ids = await asyncio.to_thread(message_ids, database_url, list(made))
                started = sum(
                    1 for m in ids.values() if m and any(t >= t_start for t in recorder.edits[m])
                )
                reminded = sum(1 for u in players if recorder.dms.get(u))
                if started == games and reminded == len(players):
                    break
            await asyncio.sleep(3)  # room for a wrong duplicate to show up
            limits = state.rate_limiter.snapshot()
        finally:
            exit_codes = stop(processes)
            await runner.cleanup()
    dm_times = [t for u in players for t in recorder.dms.get(u, [])]
    first_dms = [recorder.dms[u][0] for u in players if recorder.dms.get(u)]
    start_edits = {g: [t for t in recorder.edits[m] if t >= t_start] for g, m in ids.items() if m}
    first_edits = [times[0] for times in start_edits.values() if times]
    opens = len(recorder.opens) - opens_before
    other_dms = sum(1 for t in recorder.other_dms if t >= t_reminder)
    # Other DMs in the window (check-ins, news) spend the same budget.
    reminder_requests = len(players) + opens + other_dms
    start_requests = games
    alone = reminder_requests / GLOBAL_PER_S
    # The start edits rank first and come due at T+60 s: inside the reminders' window
    # when the reminders alone need more than 60 s.
    shared = (reminder_requests + start_requests) / GLOBAL_PER_S if alone > 60 else alone
    reminders = summary(
        t_reminder,
        first_dms,
        reminder_requests,
        shared,
        floor_alone_s=round(alone, 2),
        dm_channels_opened=opens,
        other_dms_in_window=other_dms,
        missed=len(players) - len(first_dms),
        duplicated=len(dm_times) - len(first_dms),
    )
    reminders["ratio_to_floor_alone"] = (
        round(reminders["last_after_due_s"] / alone, 3) if reminders["last_after_due_s"] else None
    )
    starts = summary(
        t_start,
        first_edits,
        start_requests,
        start_requests / GLOBAL_PER_S,
        missed=games - len(first_edits),
        duplicated=sum(len(t) - 1 for t in start_edits.values() if t),
    )
    global_429s = limits["global_429s"] - limited_before["global_429s"]
    met = (
        reminders["ratio_to_floor"] is not None
        and starts["ratio_to_floor"] is not None
        and reminders["ratio_to_floor"] <= TARGET_RATIO
        and starts["ratio_to_floor"] <= TARGET_RATIO
        and limits["global_429s"] == 0
        and reminders["missed"] == reminders["duplicated"] == 0
        and starts["missed"] == starts["duplicated"] == 0
    )
    return {
        "case": "friday",
        "games": games,
        "players_per_game": PLAYERS,
        "global_limit_per_s": GLOBAL_PER_S,
        "posted_before_reminders": posted_before_due,
        "reminders": reminders,
        "start_edits": starts,
        "global_429s": limits["global_429s"],
        "global_429s_during_peak": global_429s,
        "route_429s": limits["route_429s"],
        "target_ratio": TARGET_RATIO,
        "met": met,
        "exit_codes": exit_codes,
    }


def queue_depth(amqp: str, queue: str) -> int:
    """Messages ready in a queue."""
    connection = pika.BlockingConnection(pika.URLParameters(amqp))
    try:
        declared = connection.channel().queue_declare(queue, passive=True)
        return int(declared.method.message_count)
    finally:
        connection.close()


def stale_events(database_url: str, amqp: str, count: int, games: list[uuid.UUID]) -> None:
    """Queue `count` events needing no Discord call: a third each duplicates, missing, no-op."""
    when = datetime.now(UTC)
    duplicates = [str(uuid.uuid4()) for _ in range(count // 3)]
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine).begin() as session:
            session.execute(insert(ProcessedMessage), [{"message_id": m} for m in duplicates])
    finally:
        engine.dispose()
    messages: list[OutgoingMessage] = []
    for i in range(count):
        if i % 3 == 0 and duplicates:
            payload: Any = GameUpdatedEvent(game_id=games[i % len(games)])
            kind, message_id = EventType.GAME_UPDATED, duplicates.pop()
        elif i % 3 == 1:
            payload = GameReminderDueEvent(
                game_id=uuid.uuid4(), reminder_minutes=60, notification_time=when
            )
            kind, message_id = EventType.GAME_REMINDER_DUE, str(uuid.uuid4())
        else:
            payload = GameUpdatedEvent(game_id=games[i % len(games)])
            kind, message_id = EventType.GAME_UPDATED, str(uuid.uuid4())
        event = Event(event_type=kind, data=payload.model_dump(mode="json"))
        messages.append(OutgoingMessage(message_id=message_id, event=event))
    publisher = PikaPublisher(amqp)
    try:
        for start in range(0, len(messages), 1000):
            publisher.publish_batch(messages[start : start + 1000])
    finally:
        publisher.close()


async def stale(count: int) -> dict[str, Any]:
    """The stale-backlog case."""
    with fresh_database("gs_bench_stale") as database_url, fresh_vhost("gs-stale") as amqp:
        runner, state, port = await start_sandbox()
        recorder = Recorder(state)
        env = environment(database_url, amqp, port)
        outbox = spawn("game_scheduler.scheduler.outbox_daemon_wrapper", env)
        bot = spawn("game_scheduler.bot.bot", env)
        processes = [outbox, bot]
        try:
            await asyncio.sleep(3)
            start_at = datetime.now(UTC) + timedelta(days=2)
            existing = await asyncio.to_thread(create_games, database_url, 20, start_at, 2, False)
            for _ in range(60):
                await asyncio.sleep(0.5)
                if len(recorder.posts) >= 20:
                    break
            stop([bot])  # the backlog builds while the bot is away
            processes.remove(bot)
            await asyncio.to_thread(stale_events, database_url, amqp, count, list(existing))
            backlog = await asyncio.to_thread(queue_depth, amqp, DEFAULT_TOPOLOGY.queue)
            bot = spawn("game_scheduler.bot.bot", env)
            processes.append(bot)
            depth = backlog
            for _ in range(1200):  # until the bot is taking messages
                depth = await asyncio.to_thread(queue_depth, amqp, DEFAULT_TOPOLOGY.queue)
                if depth < backlog:
                    break
                await asyncio.sleep(0.05)
            draining_since = time.time()
            depth_at_new_game = depth
            created_at = time.time()
            new_channel = BASE_CHANNEL + 500_000
            await asyncio.to_thread(new_game, database_url, new_channel)
            posted_after = None
            drained_at = None
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and (posted_after is None or drained_at is None):
                await asyncio.sleep(0.05)
                if posted_after is None and new_channel in recorder.posts:
                    posted_after = recorder.posts[new_channel] - created_at
                if drained_at is None:
                    left = await asyncio.to_thread(queue_depth, amqp, DEFAULT_TOPOLOGY.queue)
                    if left == 0:
                        drained_at = time.time()
            limits = state.rate_limiter.snapshot()
        finally:
            exit_codes = stop(processes)
            await runner.cleanup()
    rate = backlog / (drained_at - draining_since) if drained_at else None
    return {
        "case": "stale backlog, then one new game",
        "stale_events": count,
        "queued_before_bot_started": backlog,
        "queued_when_new_game_created": depth_at_new_game,
        "new_game_posted_after_s": round(posted_after, 3) if posted_after is not None else None,
        "noop_events_per_s": round(rate) if rate else None,
        "backlog_drained_s": round(drained_at - draining_since, 2) if drained_at else None,
        "global_429s": limits["global_429s"],
        "targets": {"new_game_posted_after_s": 2.0, "noop_events_per_s": 3000},
        "met": posted_after is not None and posted_after <= 2.0 and bool(rate and rate >= 3000),
        "exit_codes": exit_codes,
    }


def new_game(database_url: str, channel_id: int) -> None:
    """One new game, created as the API creates it (its game.created goes through the outbox)."""
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine).begin() as session:
            service.create_game(
                session,
                service.NewGame(
                    guild_id=GUILD,
                    channel_id=channel_id,
                    host_id=2,
                    title="The new game",
                    scheduled_at=datetime.now(UTC) + timedelta(days=1),
                ),
                now=datetime.now(UTC),
            )
    finally:
        engine.dispose()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--games", type=int, default=1000)
    parser.add_argument("--stale", type=int, default=15_000)
    parser.add_argument("--case", choices=("friday", "stale", "both"), default="both")
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Run the chosen cases."""
    results = []
    if args.case in ("friday", "both"):
        results.append(await friday(args.games))
    if args.case in ("stale", "both"):
        results.append(await stale(args.stale))
    return results


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print its JSON."""
    print(json.dumps(asyncio.run(run(parse_args(argv))), indent=2))


if __name__ == "__main__":
    main()
