"""The whole system under random faults: nothing lost, nothing twice, nothing stuck.

For `--minutes` (default 10) a steady stream of games is created, edited, joined, left
and cancelled through the API, with reminders and status transitions coming due all the
time, while a fault injector at random moments SIGKILLs the bot, each scheduler instance
and the API (this script restarts them, as `game-scheduler run` would), closes every
broker connection, terminates the database backends, and makes the sandbox answer 5xx
and 429 bursts. Then the faults stop, everything due comes due, and the database is
compared with the sandbox: every reminder DM delivered exactly once per player, every due
transition applied, every game's message showing its final state, the dead-letter queue
empty. Prints JSON: faults injected by kind and every discrepancy.

    .venv/bin/python bench/soak.py [--minutes 10] [--fault-every 4]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import psycopg
from sqlalchemy import select

from _support import fresh_database, fresh_vhost, rabbitmqctl
from friday import environment, queue_depth, start_sandbox
from game_scheduler.db.engine import make_engine, make_session_factory
from game_scheduler.db.models import GameSession, NotificationSchedule
from game_scheduler.domain.status import GameStatus, status_label
from game_scheduler.games import service
from game_scheduler.messaging.topology import DEFAULT_TOPOLOGY
from game_scheduler.sandbox.faults import Fault
from game_scheduler.sandbox.payloads import DEFAULT_GUILD_ID
from game_scheduler.sandbox.state import SandboxState

GUILD = DEFAULT_GUILD_ID  # the sandbox's own server: its channels are made on first use
BASE_CHANNEL = 730_000_000_000_000_000
BASE_USER = 740_000_000_000_000_000
TOKEN = "soak-token"
LEAD = (70.0, 110.0)  # seconds from creation to start: the 1-minute reminder is ahead
QUIET_BEFORE_REMINDER = 15.0  # seconds: no change to a game this close to its reminder
DURATION_MINUTES = 1

PROCESSES = {
    "bot": ["-m", "game_scheduler.bot.bot"],
    "outbox": ["-m", "game_scheduler.scheduler.outbox_daemon_wrapper"],
    "notifications": ["-m", "game_scheduler.scheduler.notification_daemon_wrapper"],
    "status-transitions": ["-m", "game_scheduler.scheduler.status_transition_daemon_wrapper"],
}


class Supervisor:
    """Our processes, restarted whenever one dies (as `game-scheduler run` restarts them)."""

    def __init__(self, env: dict[str, str], api_port: int) -> None:
        self._env = env
        self._commands = {
            **PROCESSES,
            "api": ["-m", "game_scheduler", "api", "--port", str(api_port)],
        }
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.restarts: Counter[str] = Counter()

    def start(self, name: str) -> None:
        """Start (or restart) one process."""
        self.processes[name] = subprocess.Popen(
            [sys.executable, *self._commands[name]], env=self._env
        )

    def start_all(self) -> None:
        """Start every process."""
        for name in self._commands:
            self.start(name)

    def kill(self, name: str) -> None:
        """SIGKILL one process: no clean shutdown."""
        os.kill(self.processes[name].pid, signal.SIGKILL)

    async def watch(self, stop: asyncio.Event) -> None:
        """Restart any process that died, until `stop`."""
        while not stop.is_set():
            for name, process in list(self.processes.items()):
                if process.poll() is not None:
                    self.restarts[name] += 1
                    self.start(name)
            await asyncio.sleep(0.3)

    def stop_all(self) -> dict[str, int]:
        """Terminate every process; their exit codes."""
        for process in self.processes.values():
            process.terminate()
        return {name: p.wait(timeout=60) for name, p in self.processes.items()}


@dataclass
class Game:
    """What the workload knows of a game it created."""

    id: str
    index: int
    starts_at: datetime
    players: set[int] = field(default_factory=set)
    cancelled: bool = False


class Workload:
    """Creates, edits, joins, leaves and cancels games through the API."""

    def __init__(self, api: str) -> None:
        self._client = httpx.AsyncClient(
            base_url=api, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
        )
        self.games: list[Game] = []
        self.operations: Counter[str] = Counter()
        self.failed: Counter[str] = Counter()
        self._next = 0

    async def _call(self, method: str, path: str, body: Any = None) -> httpx.Response | None:
        """One API call, retried while the API is down (it may be restarting)."""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                response = await self._client.request(method, path, json=body)
            except httpx.HTTPError:
                await asyncio.sleep(0.3)
                continue
            if response.status_code >= 500:
                await asyncio.sleep(0.3)
                continue
            return response
        return None

    def _changeable(self) -> list[Game]:
        soon = datetime.now(UTC) + timedelta(seconds=60 + QUIET_BEFORE_REMINDER)
        return [g for g in self.games if not g.cancelled and g.starts_at > soon]

    async def step(self) -> None:
        """One random operation."""
        changeable = self._changeable()
        kind = (
            "create"
            if len(changeable) < 3
            else random.choice(["create", "create", "edit", "join", "join", "leave", "cancel"])
        )
        self.operations[kind] += 1
        ok = await getattr(self, f"_{kind}")(changeable)
        if not ok:
            self.failed[kind] += 1

    async def _create(self, _changeable: list[Game]) -> bool:
        index = self._next
        self._next += 1
        starts_at = datetime.now(UTC) + timedelta(seconds=random.uniform(*LEAD))
        response = await self._call(
            "POST",
            "/api/v1/games",
            {
                "guild_id": str(GUILD),
                "channel_id": str(BASE_CHANNEL + index),
                "host_id": "2",
                "title": f"Soak {index}",
                "scheduled_at": starts_at.isoformat(),
                "max_players": 3,
                "expected_duration_minutes": DURATION_MINUTES,
                "reminder_minutes": [1],
            },
        )
        if response is None or response.status_code != 201:
            self.failed[f"create: {response.status_code if response else 'no answer'}"] += 1
            return False
        game = Game(response.json()["id"], index, starts_at)
        self.games.append(game)
        for _ in range(2):
            await self._join([game])
        return True

    async def _edit(self, changeable: list[Game]) -> bool:
        game = random.choice(changeable)
        body: dict[str, Any] = {"description": f"edited {uuid.uuid4().hex[:6]}"}
        if random.random() < 0.3:
            game.starts_at = datetime.now(UTC) + timedelta(seconds=random.uniform(*LEAD))
            body["scheduled_at"] = game.starts_at.isoformat()
        response = await self._call("PATCH", f"/api/v1/games/{game.id}", body)
        return response is not None and response.status_code == 200

    async def _join(self, changeable: list[Game]) -> bool:
        game = random.choice(changeable)
        user = BASE_USER + game.index * 10 + random.randrange(5)
        response = await self._call(
            "POST", f"/api/v1/games/{game.id}/participants", {"user_id": str(user)}
        )
        return response is not None and response.status_code in (200, 201, 409)

    async def _leave(self, changeable: list[Game]) -> bool:
        game = random.choice(changeable)
        user = BASE_USER + game.index * 10 + random.randrange(5)
        response = await self._call("DELETE", f"/api/v1/games/{game.id}/participants/{user}")
        return response is not None and response.status_code in (200, 204, 404)

    async def _cancel(self, changeable: list[Game]) -> bool:
        game = random.choice(changeable)
        game.cancelled = True
        response = await self._call("DELETE", f"/api/v1/games/{game.id}")
        return response is not None and response.status_code in (200, 204)

    async def close(self) -> None:
        """Close the HTTP client."""
        await self._client.aclose()


class FaultInjector:
    """At random moments: kills, broker and database disconnections, Discord 5xx and 429s."""

    def __init__(
        self, supervisor: Supervisor, state: SandboxState, database_url: str, amqp: str
    ) -> None:
        self._supervisor = supervisor
        self._state = state
        self._database_url = database_url
        self._vhost = urlsplit(amqp).path.lstrip("/")
        self.injected: Counter[str] = Counter()

    async def inject(self) -> None:
        """One random fault."""
        kind = random.choice(
            [
                "kill bot",
                "kill outbox",
                "kill notifications",
                "kill status-transitions",
                "kill api",
                "close broker connections",
                "terminate database backends",
                "discord 5xx burst",
                "discord 429 burst",
            ]
        )
        if kind.startswith("kill "):
            self._supervisor.kill(kind.removeprefix("kill "))
        elif kind == "close broker connections":
            await asyncio.to_thread(
                rabbitmqctl, "close_all_connections", "--vhost", self._vhost, "soak"
            )
        elif kind == "terminate database backends":
            await asyncio.to_thread(self._terminate_backends)
        elif kind == "discord 5xx burst":
            status = random.choice([500, 502, 503])
            self._state.faults.add(Fault("*", "*", status, remaining=random.randint(2, 6)))
        else:
            self._state.faults.add(
                Fault("*", "*", 429, remaining=random.randint(2, 6), retry_after=0.3)
            )
        self.injected[kind] += 1

    def _terminate_backends(self) -> None:
        name = urlsplit(self._database_url).path.lstrip("/")
        with psycopg.connect(self._database_url, autocommit=True) as connection:
            connection.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )


def _footer(message: dict[str, Any]) -> str:
    return str(message["embeds"][0].get("footer", {}).get("text", ""))


def _footer(message: dict[str, Any]) -> str:
    return str(message["embeds"][0].get("footer", {}).get("text", ""))


def check(database_url: str, state: SandboxState, now: datetime) -> dict[str, Any]:
    """Compare the database with the sandbox; every discrepancy, by kind."""
    problems: dict[str, list[str]] = {
        "lost_reminders": [],
        "duplicated_reminders": [],
        "stuck_games": [],
        "messages_not_final": [],
        "duplicated_posts": [],
    }
    snapshot = state.snapshot()
    engine = make_engine(database_url)
    games = 0
    try:
        with make_session_factory(engine).begin() as session:
            sent = {
                n.game_id
                for n in session.scalars(
                    select(NotificationSchedule).where(NotificationSchedule.sent)
                )
            }
            for row in session.scalars(select(GameSession)).all():
                games += 1
                game = service.get_game(session, row.id)
                status = GameStatus(game.status)
                ends = game.scheduled_at + timedelta(minutes=game.expected_duration_minutes or 60)
                name = f"{game.title} ({game.id})"
                over = ends < now - timedelta(seconds=20)
                if over and status not in (GameStatus.CANCELLED, GameStatus.COMPLETED):
                    problems["stuck_games"].append(f"{name}: {status.value} after its end")
                channel = snapshot["channels"].get(str(game.channel_id), [])
                messages = [m for m in channel if m["embeds"] and str(game.id) in _footer(m)]
                if len(messages) > 1:
                    problems["duplicated_posts"].append(f"{name}: {len(messages)} messages")
                shown = [m for m in messages if m["id"] == str(game.message_id)]
                footer = _footer(shown[0]) if shown else ""
                if not footer.startswith(status_label(status)):
                    problems["messages_not_final"].append(f"{name}: {status.value}: {footer!r}")
                if status is GameStatus.CANCELLED or game.id not in sent:
                    continue
                needle = f"**{game.title}** starts"
                for player in game.participants:
                    if player.user_id is None:
                        continue
                    dms = snapshot["dms"].get(str(player.user_id), [])
                    got = [m for m in dms if needle in m["content"]]
                    if not got:
                        problems["lost_reminders"].append(f"{name}: player {player.user_id}")
                    elif len(got) > 1:
                        problems["duplicated_reminders"].append(
                            f"{name}: player {player.user_id} got {len(got)}"
                        )
    finally:
        engine.dispose()
    return {"games": games, **problems}


async def soak(minutes: float, fault_every: float) -> dict[str, Any]:
    """Run the soak once, from a fresh database, vhost and sandbox."""
    with fresh_database("gs_bench_soak") as database_url, fresh_vhost("gs-soak") as amqp:
        runner, state, port = await start_sandbox()
        api_port = _free_port()
        env = {**environment(database_url, amqp, port), "API_TOKEN": TOKEN}
        supervisor = Supervisor(env, api_port)
        supervisor.start_all()
        stop = asyncio.Event()
        watcher = asyncio.create_task(supervisor.watch(stop))
        workload = Workload(f"http://127.0.0.1:{api_port}")
        injector = FaultInjector(supervisor, state, database_url, amqp)
        try:
            await asyncio.sleep(4)
            ends = time.monotonic() + minutes * 60
            next_fault = time.monotonic() + random.uniform(0.5, 1.5) * fault_every
            while time.monotonic() < ends:
                await workload.step()
                if time.monotonic() >= next_fault:
                    await injector.inject()
                    next_fault = time.monotonic() + random.uniform(0.5, 1.5) * fault_every
                await asyncio.sleep(0.4)
            state.faults.clear()
            # Everything started must come due: the last start, its end, and a margin.
            last_end = max((g.starts_at for g in workload.games), default=datetime.now(UTC))
            last_end += timedelta(minutes=DURATION_MINUTES, seconds=25)
            await asyncio.sleep(max((last_end - datetime.now(UTC)).total_seconds(), 0))
            for _ in range(120):
                if await asyncio.to_thread(queue_depth, amqp, DEFAULT_TOPOLOGY.queue) == 0:
                    break
                await asyncio.sleep(1)
            await asyncio.sleep(5)
            found = check(database_url, state, datetime.now(UTC))
            dead = await asyncio.to_thread(queue_depth, amqp, DEFAULT_TOPOLOGY.dead_letter_queue)
        finally:
            stop.set()
            await watcher
            await workload.close()
            exit_codes = supervisor.stop_all()
            await runner.cleanup()
    discrepancies = sum(len(v) for v in found.values() if isinstance(v, list)) + dead
    return {
        "benchmark": "soak: API workload under random faults, database compared with Discord",
        "minutes": minutes,
        "operations": dict(workload.operations),
        "operations_failed": dict(workload.failed),
        "faults_injected": sum(injector.injected.values()),
        "faults_by_kind": dict(injector.injected),
        "restarts": dict(supervisor.restarts),
        "games": found["games"],
        "lost": len(found["lost_reminders"]),
        "duplicated": len(found["duplicated_reminders"]) + len(found["duplicated_posts"]),
        "stuck": len(found["stuck_games"]) + len(found["messages_not_final"]),
        "dead_letters": dead,
        "discrepancies": {k: v for k, v in found.items() if isinstance(v, list)},
        "global_429s": state.rate_limiter.snapshot()["global_429s"],
        "met": discrepancies == 0,
        "exit_codes": exit_codes,
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--fault-every", type=float, default=4.0, help="seconds, on average")
    parser.add_argument("--seed", type=int, default=None)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Run the soak and print its JSON."""
    args = parse_args(argv)
    random.seed(args.seed)
    print(json.dumps(asyncio.run(soak(args.minutes, args.fault_every)), indent=2))


if __name__ == "__main__":
    main()
