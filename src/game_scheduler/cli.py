"""`game-scheduler` (and `python -m game_scheduler`): one entry point for every process.

Commands import their component only when chosen, so `--help` is fast and a missing
optional piece never breaks the others.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import secrets
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from game_scheduler.config import Settings
from game_scheduler.log_config import configure_logging

log = logging.getLogger(__name__)

SCHEDULER_WRAPPERS = {
    "notifications": "game_scheduler.scheduler.notification_daemon_wrapper",
    "status-transitions": "game_scheduler.scheduler.status_transition_daemon_wrapper",
    "outbox": "game_scheduler.scheduler.outbox_daemon_wrapper",
    "series": "game_scheduler.scheduler.series_daemon_wrapper",
}
# `run` gives each long-running child its own metrics port (docs/operations.md lists them).
RUN_METRICS_PORTS = {
    "notifications": 9101,
    "status-transitions": 9102,
    "outbox": 9103,
    "bot": 9104,
    "series": 9105,
}
API_PORT = 8000
SANDBOX_PORT = 8001


def run_state_path() -> Path:
    """Where `run` leaves the API URL and token for `demo` (readable by this user only)."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "game-scheduler" / "run.json"


def _cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    from game_scheduler.db.migrate import migrate

    migrate(settings.database_url)
    return 0


def _with_metrics_host(args: argparse.Namespace, settings: Settings) -> Settings:
    if args.metrics_host is None:
        return settings
    return settings.model_copy(update={"metrics_host": args.metrics_host})


def _cmd_scheduler(args: argparse.Namespace, settings: Settings) -> int:
    settings = _with_metrics_host(args, settings)
    wrapper = importlib.import_module(SCHEDULER_WRAPPERS[args.instance])
    exit_code: int = wrapper.main(settings, metrics_port=args.metrics_port)
    return exit_code


def _cmd_bot(args: argparse.Namespace, settings: Settings) -> int:
    from game_scheduler.bot.bot import main as bot_main

    settings = _with_metrics_host(args, settings)
    return bot_main(settings, metrics_port=args.metrics_port)


def _cmd_api(args: argparse.Namespace, settings: Settings) -> int:
    from game_scheduler.api.app import serve

    return serve(settings, host=args.host, port=args.port)


def _cmd_sandbox(args: argparse.Namespace, settings: Settings) -> int:
    from game_scheduler.sandbox.server import serve

    serve(host=args.host, port=args.port)
    return 0


def _seed_demo_settings(settings: Settings) -> None:
    """Make the sandbox demo server's "Game host" role a host role, unless already set."""
    from sqlalchemy import text

    from game_scheduler.db.engine import make_engine
    from game_scheduler.sandbox.demo_server import DEMO_GUILD_ID, DEMO_HOST_ROLE_ID

    engine = make_engine(settings.database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO guild_settings (guild_id, host_role_ids) VALUES (:g, ARRAY[:r])"
                    " ON CONFLICT (guild_id) DO NOTHING"
                ),
                {"g": DEMO_GUILD_ID, "r": DEMO_HOST_ROLE_ID},
            )
    finally:
        engine.dispose()


def _session_secret(settings: Settings, state: Path) -> str:
    """SESSION_SECRET, else the one an earlier `run` kept in its state file, else a new one."""
    if settings.session_secret is not None and settings.session_secret.get_secret_value():
        return settings.session_secret.get_secret_value()
    try:
        kept = json.loads(state.read_text()).get("session_secret")
    except (OSError, ValueError, AttributeError):
        kept = None
    # Kept across runs so that people stay logged in when `run` restarts.
    return kept if isinstance(kept, str) and len(kept) >= 32 else secrets.token_urlsafe(32)


def _ports_in_use(api_host: str, api_port: int, other_ports: dict[str, int]) -> dict[str, int]:
    from game_scheduler.supervisor import taken_ports

    return {**taken_ports({"api": api_port}, api_host), **taken_ports(other_ports)}


def _reachable(host: str) -> str:
    """Where to reach a server bound to `host` from this machine."""
    return "127.0.0.1" if host in ("", "0.0.0.0", "::") else host


def _cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from game_scheduler.db.migrate import migrate
    from game_scheduler.supervisor import ChildSpec, Supervisor, child_env

    offset = args.port_offset
    api_port, sandbox_port = API_PORT + offset, SANDBOX_PORT + offset
    metrics_ports = {name: port + offset for name, port in RUN_METRICS_PORTS.items()}
    others = {**({"sandbox": sandbox_port} if settings.uses_sandbox else {}), **metrics_ports}
    taken = _ports_in_use(args.host, api_port, others)
    if taken:
        # Before anything else: a second run must not touch the first one's state file.
        named = ", ".join(f"{port} ({name})" for name, port in taken.items())
        which = f"port {named} is" if len(taken) == 1 else f"ports {named} are"
        print(
            f"Cannot start: {which} already in use, perhaps by another"
            " `game-scheduler run`. Stop it, or pass --port-offset to run a second copy.",
            file=sys.stderr,
        )
        return 2
    migrate(settings.database_url)
    if settings.uses_sandbox:
        _seed_demo_settings(settings)
    token = settings.api_token.get_secret_value() if settings.api_token else None
    token = token or secrets.token_urlsafe(24)
    state = run_state_path()
    session_secret = _session_secret(settings, state)
    extra_env = {
        "API_TOKEN": token,
        "SESSION_SECRET": session_secret,
        "METRICS_HOST": args.metrics_host,
    }
    if "PUBLIC_URL" not in os.environ:
        # Where a browser on this machine reaches the API: the login redirect comes back here.
        public_host = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
        extra_env["PUBLIC_URL"] = f"http://{public_host}:{api_port}"
    specs = []
    if settings.uses_sandbox:
        specs.append(ChildSpec.of_cli("sandbox", "sandbox", "--port", str(sandbox_port)))
        extra_env["DISCORD_API_BASE"] = f"http://127.0.0.1:{sandbox_port}/api/v10"
        extra_env["DISCORD_WEB_BASE"] = f"http://127.0.0.1:{sandbox_port}"
    specs.append(
        ChildSpec.of_cli(
            "api",
            "api",
            "--host",
            args.host,
            "--port",
            str(api_port),
            health_url=f"http://{_reachable(args.host)}:{api_port}/healthz",
        )
    )
    for instance in SCHEDULER_WRAPPERS:
        port = str(metrics_ports[instance])
        health = f"http://{_reachable(args.metrics_host)}:{port}/healthz"
        specs.append(
            ChildSpec.of_cli(
                instance, "scheduler", instance, "--metrics-port", port, health_url=health
            )
        )
    bot_port = str(metrics_ports["bot"])
    health = f"http://{_reachable(args.metrics_host)}:{bot_port}/healthz"
    specs.append(ChildSpec.of_cli("bot", "bot", "--metrics-port", bot_port, health_url=health))

    api_url = f"http://{args.host}:{api_port}"
    sandbox_url = f"http://127.0.0.1:{sandbox_port}/" if settings.uses_sandbox else None
    state.parent.mkdir(parents=True, exist_ok=True)
    state.touch(mode=0o600)
    state.write_text(
        json.dumps(
            {
                "api_url": api_url,
                "api_token": token,
                "sandbox_url": sandbox_url,
                "session_secret": session_secret,
            }
        )
    )
    lines = [
        "Game Scheduler is running. Ctrl-C stops everything.",
        f"  API:       {api_url}/docs   (token: {token})",
        f"  Metrics:   {', '.join(f'{n} :{p}' for n, p in metrics_ports.items())}",
    ]
    if sandbox_url:
        lines.append(f"  Sandbox:   {sandbox_url}   (Discord stand-in)")
    lines.append("  Try:       make demo   (or: game-scheduler demo) in another terminal")
    # Printed, not logged: the token is for the person at the terminal, never for log files.
    print("\n".join(lines), flush=True)
    return Supervisor(specs, child_env(extra_env)).run()


def _cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from game_scheduler.demo import run_demo

    return run_demo(
        settings,
        run_state_path(),
        follow=not args.no_follow,
        api_url=args.api_url,
        token=args.token,
    )


def build_parser() -> argparse.ArgumentParser:
    """The `game-scheduler` command line: one subcommand per process, plus run and demo."""
    parser = argparse.ArgumentParser(
        prog="game-scheduler", description="Self-hosted Discord game-session scheduler."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler: Callable[..., int], help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        return sub

    add("migrate", _cmd_migrate, "create the database if missing, then upgrade to head")
    scheduler = add("scheduler", _cmd_scheduler, "run one scheduler daemon instance")
    scheduler.add_argument("instance", choices=list(SCHEDULER_WRAPPERS))
    bot = add("bot", _cmd_bot, "run the Discord bot and its event consumer")
    for sub in (scheduler, bot):
        sub.add_argument("--metrics-port", type=int, default=0, help="0 turns metrics off")
        sub.add_argument(
            "--metrics-host",
            default=None,
            help="address /metrics and /healthz listen on (default 127.0.0.1, or METRICS_HOST)",
        )
    api = add("api", _cmd_api, "serve the REST API")
    api.add_argument("--host", default="127.0.0.1")
    api.add_argument("--port", type=int, default=API_PORT)
    sandbox = add("sandbox", _cmd_sandbox, "serve the local Discord stand-in")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=SANDBOX_PORT)
    run = add("run", _cmd_run, "migrate, then run everything, supervised; Ctrl-C stops all")
    run.add_argument("--host", default="127.0.0.1", help="address the API binds to")
    run.add_argument(
        "--port-offset",
        type=int,
        default=0,
        help="added to every port (8000, 8001, 9101-9105), to run a second copy beside one",
    )
    run.add_argument(
        "--metrics-host", default="127.0.0.1", help="address the children's metrics listen on"
    )
    demo = add("demo", _cmd_demo, "with `run` going, create a sample game starting in 2 minutes")
    demo.add_argument("--no-follow", action="store_true", help="create the game and return at once")
    demo.add_argument("--api-url", help="the API to use (default: the one `run` started)")
    demo.add_argument("--token", help="its bearer token (default: API_TOKEN, else `run`'s)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line, configure logging, run the chosen command."""
    args = build_parser().parse_args(argv)
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    try:
        return int(args.handler(args, settings))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
