"""Latency from a status transition's due time to the sandbox recording the edited message.

The real pipeline, each part its own process as in production: the outbox daemon posts
`game.created` (the bot posts each game), the status-transitions daemon fires
`game.status_transition_due` at each game's start, and the bot changes the status and
edits the message in the Discord sandbox (run in this process, so the moment it records
each edit is read directly). 100 games start at different times, 97 ms apart, one channel
each (Discord allows 5 edits per 5 s per channel; in one channel the bot would pace them).

Uses a database and a RabbitMQ vhost of its own, deleted afterwards. Prints JSON:

    .venv/bin/python bench/bot.py [--games 100]
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
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from _support import fresh_database, fresh_vhost, percentile
from game_scheduler.db.engine import make_engine, make_session_factory
from game_scheduler.games import service
from game_scheduler.sandbox.app import create_app
from game_scheduler.sandbox.http_layer import STATE_KEY
from game_scheduler.sandbox.state import SandboxState, StoredMessage

SPACING = timedelta(milliseconds=97)
LEAD = timedelta(seconds=4)  # time for the bot to post every game before the first is due
BASE_CHANNEL = 700_000_000_000_000_000


def record_edit_times(state: SandboxState) -> dict[int, float]:
    """Hook the sandbox so each message's first edit time (epoch seconds) is kept."""
    edited: dict[int, float] = {}
    original = state.edit_message

    def edit_message(stored: StoredMessage, body: dict[str, Any]) -> dict[str, Any]:
        result = original(stored, body)
        edited.setdefault(int(stored.data["id"]), time.time())
        return result

    state.edit_message = edit_message  # type: ignore[method-assign]
    return edited


def spawn(module: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start one of our processes."""
    return subprocess.Popen([sys.executable, "-m", module], env=env)


async def _measure(
    games: int, database_url: str, rabbitmq_url: str
) -> tuple[list[float], list[int]]:
    """Latencies in ms from due time to recorded edit, and the processes' exit codes."""
    app = create_app()
    edited = record_edit_times(app[STATE_KEY])
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "RABBITMQ_URL": rabbitmq_url,
        "DISCORD_API_BASE": f"http://127.0.0.1:{port}/api/v10",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("DISCORD_BOT_TOKEN", None)
    processes = [
        spawn("game_scheduler.bot.bot", env),
        spawn("game_scheduler.scheduler.outbox_daemon_wrapper", env),
        spawn("game_scheduler.scheduler.status_transition_daemon_wrapper", env),
    ]
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    try:
        await asyncio.sleep(3)  # the bot logs in and declares the topology
        first_due = datetime.now(UTC) + LEAD
        due: dict[uuid.UUID, datetime] = {}
        with sessions.begin() as session:
            for i in range(games):
                scheduled_at = first_due + i * SPACING
                game = service.create_game(
                    session,
                    service.NewGame(
                        guild_id=1,
                        channel_id=BASE_CHANNEL + i,
                        host_id=2,
                        title=f"Bench game {i}",
                        scheduled_at=scheduled_at,
                        reminder_minutes=(),
                    ),
                    now=datetime.now(UTC),
                )
                due[game.id] = scheduled_at
        last_due = first_due + games * SPACING
        await asyncio.sleep(max((last_due - datetime.now(UTC)).total_seconds(), 0) + 3)
        with sessions.begin() as session:
            message_ids = {g: service.get_game(session, g).message_id for g in due}
        latencies = [
            (edited[mid] - due[g].timestamp()) * 1000
            for g, mid in message_ids.items()
            if mid is not None and mid in edited
        ]
    finally:
        for process in processes:
            process.terminate()
        exit_codes = [process.wait(timeout=30) for process in processes]
        engine.dispose()
        await runner.cleanup()
    return latencies, exit_codes


async def run(games: int) -> dict[str, Any]:
    """Run the whole pipeline once and measure."""
    with (
        fresh_database("gs_bench_bot") as database_url,
        fresh_vhost("gs-bench-bot") as rabbitmq_url,
    ):
        latencies, exit_codes = await _measure(games, database_url, rabbitmq_url)
    return {
        "benchmark": "status transition due time -> sandbox records the edited message",
        "pipeline": "status-transitions daemon -> RabbitMQ -> bot -> Discord sandbox",
        "games": games,
        "edits_measured": len(latencies),
        "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "p99_ms": round(percentile(latencies, 99), 1) if latencies else None,
        "max_ms": round(max(latencies), 1) if latencies else None,
        "target_p99_ms": 100,
        "met": bool(latencies) and len(latencies) == games and percentile(latencies, 99) <= 100,
        "exit_codes": exit_codes,
    }


def main() -> None:
    """Run the benchmark and print its JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--games", type=int, default=100)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.games)), indent=2))


if __name__ == "__main__":
    main()
