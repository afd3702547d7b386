"""Schemathesis over the app's own OpenAPI document: no 500s, no response off the schema.

Every operation gets positive cases (data the schema allows, which the rules may still
refuse with a documented 422) and negative ones (data it forbids). Half the positive
cases that name a game are pointed at a fresh real one (one seat, one player), so edits,
joins, leaves and cancels run through the service for real.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any, cast

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.orm import Session, sessionmaker

from game_scheduler.games import series as series_service
from game_scheduler.games import service
from game_scheduler.games import templates as template_store
from tests.api.conftest import API_TOKEN, NOW, START, count_rows

pytestmark = pytest.mark.integration

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_OPERATION = 25
SEATED_PLAYER = "1"


def _real_game(sessions: sessionmaker[Session]) -> str:
    new_game = service.NewGame(
        guild_id=1, channel_id=2, host_id=3, title="Fuzz", scheduled_at=START, max_players=1
    )
    with sessions.begin() as session:
        game = service.create_game(session, new_game, now=NOW)
        service.join_game(session, game.id, int(SEATED_PLAYER), now=NOW)
        return str(game.id)


def _aim_at_real_game(case: schemathesis.Case[Any], sessions: sessionmaker[Session]) -> None:
    # Random ids find no game and random times are rarely in the next five years, so
    # without this nearly every case would stop at a 404 or 422 before the service.
    if "game_id" in (case.path_parameters or {}):
        case.path_parameters["game_id"] = _real_game(sessions)
        if "user_id" in case.path_parameters:
            case.path_parameters["user_id"] = SEATED_PLAYER
    if isinstance(case.body, dict) and "scheduled_at" in case.body:
        case.body["scheduled_at"] = (START + timedelta(hours=1)).isoformat()
    if "series_id" in (case.path_parameters or {}):
        case.path_parameters["series_id"] = _real_series(sessions)
    if "template_id" in (case.path_parameters or {}):
        case.path_parameters["guild_id"] = "1"
        case.path_parameters["template_id"] = _real_template(sessions)
    if isinstance(case.body, dict):
        # A rule, zone and start that hold, so series cases reach the service.
        valid = {"rrule": "FREQ=WEEKLY", "timezone": "UTC", "local_start": SERIES_START}
        for name, value in valid.items():
            if name in case.body:
                case.body[name] = value
        if "occurrence" in case.body:
            case.body["occurrence"] = (START + timedelta(weeks=3)).isoformat()


SERIES_START = START.replace(tzinfo=None, second=0, microsecond=0).isoformat()


def _real_series(sessions: sessionmaker[Session]) -> str:
    new = series_service.NewSeries(
        guild_id=1,
        channel_id=2,
        host_id=3,
        title="Fuzz weekly",
        rrule="FREQ=WEEKLY",
        timezone="UTC",
        local_start=START.replace(tzinfo=None, second=0, microsecond=0),
    )
    with sessions.begin() as session:
        return str(series_service.create_series(session, new, now=NOW).id)


def _real_template(sessions: sessionmaker[Session]) -> str:
    new = template_store.NewTemplate(guild_id=1, name=f"Fuzz {uuid.uuid4().hex[:8]}")
    with sessions.begin() as session:
        return str(template_store.create_template(session, new, now=NOW).id)


def _has_inputs(operation: Any) -> bool:
    parts = (operation.path_parameters, operation.query, operation.body)
    return any(len(part) for part in parts)


def _check_operation(
    operation: Any, mode: schemathesis.GenerationMode, sessions: sessionmaker[Session]
) -> None:
    aim = st.booleans() if mode is schemathesis.GenerationMode.POSITIVE else st.just(False)

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        # Draws touch a real database; the fixtures are per test on purpose.
        suppress_health_check=list(HealthCheck),
    )
    @given(st.tuples(operation.as_strategy(mode, headers=AUTH), aim))
    def run(drawn: tuple[schemathesis.Case[Any], bool]) -> None:
        case, aim_at_real_game = drawn
        if aim_at_real_game:
            _aim_at_real_game(case, sessions)
        response = case.call(headers=AUTH)
        case.validate_response(response, checks=CHECKS)

    run()


@pytest.mark.parametrize("mode", list(schemathesis.GenerationMode))
def test_no_request_breaks_the_api_or_its_schema(
    app: FastAPI, session_factory: sessionmaker[Session], mode: schemathesis.GenerationMode
) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)

    # Every operation of our own schema resolves; `ok()` raises on one that does not.
    operations = [cast(Any, result).ok() for result in schema.get_all_operations()]

    assert len(operations) == 29
    for operation in operations:
        if mode is schemathesis.GenerationMode.NEGATIVE and not _has_inputs(operation):
            continue  # nothing to make invalid: no parameters, no body
        try:
            _check_operation(operation, mode, session_factory)
        except Unsatisfiable:
            # Only free-text inputs (a calendar token in a path): nothing can be invalid.
            if mode is not schemathesis.GenerationMode.NEGATIVE:
                raise
    # Every game was written whole: each has its created event, none is half there.
    assert count_rows(session_factory, "event_outbox") >= count_rows(
        session_factory, "game_sessions"
    )
