"""Authentication, liveness, readiness and metrics."""

from __future__ import annotations

import re
import socket

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from game_scheduler.api.app import create_app
from game_scheduler.config import Settings
from game_scheduler.testing import FrozenClock
from tests.api.conftest import API_TOKEN, count_rows, create, game_body

pytestmark = pytest.mark.integration

PROTECTED = [
    ("POST", "/api/v1/games"),
    ("GET", "/api/v1/games"),
    ("GET", "/api/v1/games/00000000-0000-0000-0000-000000000000"),
    ("PATCH", "/api/v1/games/00000000-0000-0000-0000-000000000000"),
    ("DELETE", "/api/v1/games/00000000-0000-0000-0000-000000000000"),
    ("POST", "/api/v1/games/00000000-0000-0000-0000-000000000000/participants"),
    ("DELETE", "/api/v1/games/00000000-0000-0000-0000-000000000000/participants/1"),
]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
async def test_every_api_route_needs_the_token(
    anonymous: httpx.AsyncClient, method: str, path: str
) -> None:
    response = await anonymous.request(method, path, content=b"{not json")

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize(
    "authorization",
    [f"Bearer {API_TOKEN}x", "Bearer ", f"Basic {API_TOKEN}", API_TOKEN, "Bearer wrong"],
)
async def test_a_wrong_token_is_401_and_writes_nothing(
    anonymous: httpx.AsyncClient, session_factory: sessionmaker[Session], authorization: str
) -> None:
    response = await anonymous.post(
        "/api/v1/games", json=game_body(), headers={"Authorization": authorization}
    )

    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert API_TOKEN not in response.text
    assert count_rows(session_factory, "game_sessions") == 0


async def test_the_scheme_name_is_case_insensitive(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get(
        "/api/v1/games", headers={"Authorization": f"bearer {API_TOKEN}"}
    )

    assert response.status_code == 200


def test_create_app_refuses_to_run_without_a_token(database_url: str) -> None:
    with pytest.raises(ValueError, match="api_token"):
        create_app(Settings(database_url=database_url, api_token=None))


async def test_healthz_is_open(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/healthz")

    assert response.status_code == 200
    assert response.json()["status"] == "ok"


async def test_readyz_is_200_when_database_and_broker_answer(
    anonymous: httpx.AsyncClient,
) -> None:
    response = await anonymous.get("/readyz")

    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_readyz_is_503_naming_the_broker_when_it_is_down(
    database_url: str, session_factory: sessionmaker[Session], clock: FrozenClock
) -> None:
    settings = Settings(
        database_url=database_url,
        api_token=SecretStr(API_TOKEN),
        rabbitmq_url=f"amqp://guest:secret-pw@127.0.0.1:{_closed_port()}/",
    )
    app = create_app(settings, clock=clock, session_factory=session_factory)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://api.test"
    ) as client:
        response = await client.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"].startswith("down")
    assert "secret-pw" not in response.text


async def test_metrics_count_requests_by_route_template(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    game = await create(client)
    await client.get(f"/api/v1/games/{game['id']}")
    await client.get("/api/v1/games/00000000-0000-0000-0000-000000000000")
    await client.get("/no/such/route")

    text = (await client.get("/metrics")).text

    assert (
        'http_requests_total{method="GET",route="/api/v1/games/{game_id}",status="200"} 1.0' in text
    )
    assert (
        'http_requests_total{method="GET",route="/api/v1/games/{game_id}",status="404"} 1.0' in text
    )
    assert 'http_requests_total{method="POST",route="/api/v1/games",status="201"} 1.0' in text
    assert 'route="<unmatched>",status="404"' in text
    assert game["id"] not in text
    assert "http_request_duration_seconds_bucket" in text


async def test_unknown_routes_answer_in_the_error_shape(client: httpx.AsyncClient) -> None:
    response = await client.get("/nowhere")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_openapi_docs_are_served(anonymous: httpx.AsyncClient) -> None:
    assert (await anonymous.get("/docs")).status_code == 200
    schema = (await anonymous.get("/openapi.json")).json()
    assert "/api/v1/games/{game_id}/participants" in schema["paths"]


async def test_docs_load_every_asset_from_the_api_itself(anonymous: httpx.AsyncClient) -> None:
    page = (await anonymous.get("/docs")).text
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources, page
    for source in sources:
        assert source.startswith("/docs/assets/"), f"{source} is not served by the API"
        asset = await anonymous.get(source)
        assert asset.status_code == 200, source
        assert len(asset.content) > 100
    assert "cdn." not in page
