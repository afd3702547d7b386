"""Run the sandbox until SIGINT or SIGTERM: `game-scheduler sandbox`."""

from __future__ import annotations

import asyncio
import logging
import signal

from aiohttp import web

from game_scheduler.sandbox.app import create_app

logger = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8001


async def run_sandbox(
    host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, stop: asyncio.Event | None = None
) -> None:
    """Serve the sandbox until `stop` is set (or SIGINT/SIGTERM when no event is given)."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    # The command line's sandbox is for people: it starts with a demo server to log in to.
    runner = web.AppRunner(create_app(seed_demo=True), handle_signals=False, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        logger.warning(
            "Discord sandbox: a development tool, not Discord. Serving http://%s:%d/ "
            "(REST at /api/v10, gateway at ws://%s:%d/gateway)",
            host,
            port,
            host,
            port,
        )
        if host not in ("127.0.0.1", "localhost", "::1"):
            logger.warning("Discord sandbox bound to %s: anyone who can reach it can use it", host)
        await stop.wait()
        logger.info("Discord sandbox stopping")
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        await runner.cleanup()


def serve(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
    """Serve the sandbox on host:port, blocking until SIGINT or SIGTERM, then exit cleanly."""
    asyncio.run(run_sandbox(host, port))
