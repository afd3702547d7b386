"""Liveness, readiness and metrics: open routes for orchestrators and Prometheus.

`/healthz` says the process answers; `/readyz` says it can do its work, by asking the
database for `SELECT 1` and opening (and closing) an AMQP connection to the broker. Each
check has a short timeout so a hung dependency makes the answer 503, not slow.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from game_scheduler.api.deps import Context
from game_scheduler.api.metrics import ApiMetrics
from game_scheduler.api.schemas import HealthOut
from game_scheduler.messaging.broker_check import check_broker

CHECK_TIMEOUT = 2.0  # seconds, per dependency
log = logging.getLogger(__name__)

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness")
async def healthz() -> HealthOut:
    """The process is up and answering."""
    return HealthOut(status="ok")


def check_database(session_factory: sessionmaker[Session]) -> None:
    """Ask the database for `SELECT 1`; raises when it cannot answer."""
    with session_factory() as session:
        session.execute(text("SELECT 1"))


async def _run_check(name: str, check: Callable[[], None]) -> str:
    try:
        await asyncio.wait_for(run_in_threadpool(check), timeout=CHECK_TIMEOUT + 1)
    except TimeoutError:
        log.warning("readiness check timed out", extra={"dependency": name})
        return f"down: no answer within {CHECK_TIMEOUT + 1:.0f} s"
    except Exception as exc:
        # The class name only: messages may carry hosts, users or worse.
        log.warning(
            "readiness check failed", extra={"dependency": name, "error": type(exc).__name__}
        )
        return f"down: {type(exc).__name__}"
    return "ok"


@router.get(
    "/readyz",
    summary="Readiness",
    responses={503: {"model": HealthOut, "description": "a dependency is down; see `checks`"}},
)
async def readyz(context: Context, response: Response) -> HealthOut:
    """200 when the database and the broker both answer; 503 naming those that do not."""
    database, broker = await asyncio.gather(
        _run_check("database", lambda: check_database(context.session_factory)),
        _run_check("broker", lambda: check_broker(context.settings.rabbitmq_url, CHECK_TIMEOUT)),
    )
    checks = {"database": database, "broker": broker}
    ready = all(result == "ok" for result in checks.values())
    if not ready:
        response.status_code = 503
    return HealthOut(status="ok" if ready else "unavailable", checks=checks)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}},
)
async def metrics(request: Request) -> Response:
    """Request counts and latencies by route template and status, in Prometheus format."""
    api_metrics: ApiMetrics = request.app.state.metrics
    body, content_type = api_metrics.exposition()
    return Response(body, media_type=content_type)
