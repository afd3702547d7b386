"""Every error the API answers, as one JSON shape with a message a person can act on.

`{"error": {"code": "already_joined", "message": "...", "field": null, "errors": []}}`:
`code` is stable for programs, `message` is for people, `field` names the offending field
on a 422, and `errors` lists every field at fault when there are several.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg import InterfaceError, OperationalError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from game_scheduler.api.discord_directory import DiscordUnavailable
from game_scheduler.api.schemas import ErrorDetail, ErrorOut, FieldErrorOut
from game_scheduler.domain.validation import InvalidField
from game_scheduler.games.errors import (
    AlreadyJoined,
    GameError,
    GameNotFound,
    GameNotOpen,
    NotJoined,
    SeriesEnded,
    SeriesNotFound,
    TemplateNameTaken,
    TemplateNotAllowed,
    TemplateNotFound,
    TransitionNotAllowed,
)

log = logging.getLogger(__name__)

RETRY_AFTER = 2  # seconds a client should wait before repeating a request that met a blip
DISCORD_RETRY_AFTER = 30  # seconds, after Discord did not answer a membership lookup

# Pydantic's wording for common mistakes, said the way a client author needs to hear it.
_FRIENDLY_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "is not a field this endpoint knows; check the spelling",
    "timezone_aware": "must include a timezone offset, e.g. 2030-06-01T19:00:00+02:00",
    "datetime_type": "must be an ISO 8601 time with an offset, e.g. 2030-06-01T19:00:00Z",
    "datetime_parsing": "must be an ISO 8601 time with an offset, e.g. 2030-06-01T19:00:00Z",
    "datetime_from_date_parsing": "must be an ISO 8601 time with an offset, "
    "e.g. 2030-06-01T19:00:00Z",
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "int_parsing": "must be a whole number",
    "string_type": "must be a string",
    "list_type": "must be a list",
    "uuid_parsing": "must be a game id (a UUID)",
    "uuid_type": "must be a game id (a UUID)",
    "model_attributes_type": "must be a JSON object",
    "dict_type": "must be a JSON object",
}

# (status, code) for each error the game service raises on purpose.
_GAME_ERRORS: dict[type[GameError], tuple[int, str]] = {
    GameNotFound: (404, "game_not_found"),
    NotJoined: (404, "not_joined"),
    AlreadyJoined: (409, "already_joined"),
    GameNotOpen: (409, "game_not_open"),
    TransitionNotAllowed: (409, "transition_not_allowed"),
    SeriesNotFound: (404, "series_not_found"),
    # Editing a series that ended is a request that cannot succeed as sent: a 422.
    SeriesEnded: (422, "series_ended"),
    TemplateNotFound: (404, "template_not_found"),
    TemplateNameTaken: (409, "template_name_taken"),
    TemplateNotAllowed: (403, "forbidden"),
}

# The responses every /api/v1 route may give besides its success, for the OpenAPI document.
COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {
        "model": ErrorOut,
        "description": "no caller: no bearer token or session, or a wrong one",
    },
    403: {"model": ErrorOut, "description": "not allowed for you, or no CSRF token with a change"},
    422: {"model": ErrorOut, "description": "a field breaks a rule; `field` names it"},
    503: {
        "model": ErrorOut,
        "description": "the database was briefly unreachable; nothing changed, retry after "
        "`Retry-After` seconds",
    },
}
GAME_RESPONSES: dict[int | str, dict[str, Any]] = {
    **COMMON_RESPONSES,
    404: {"model": ErrorOut, "description": "no such game"},
}
CONFLICT_RESPONSES: dict[int | str, dict[str, Any]] = {
    **GAME_RESPONSES,
    409: {"model": ErrorOut, "description": "the game's status forbids this, or a duplicate"},
}


class ApiError(Exception):
    """An error the API itself decides on, answered as `status` with `code` and `message`."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field


def some_changes(changes: dict[str, Any]) -> dict[str, Any]:
    """The changes a PATCH body sent; 422 when it sent none."""
    if not changes:
        raise ApiError(422, "invalid_field", "send at least one field to change")
    return changes


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    field: str | None = None,
    errors: Sequence[FieldErrorOut] = (),
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """A JSON error response in the API's one error shape."""
    body = ErrorOut(error=ErrorDetail(code=code, message=message, field=field, errors=list(errors)))
    return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=headers)


def _field_name(loc: Sequence[int | str]) -> str | None:
    # loc starts with where the value came from ("body", "query", "path"); the rest is the field.
    name = ""
    for part in loc[1:]:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or None


def _describe(error: dict[str, Any]) -> FieldErrorOut:
    field = _field_name(error.get("loc", ()))
    kind = error.get("type", "")
    if kind == "json_invalid":
        reason = error.get("ctx", {}).get("error", "")
        return FieldErrorOut(field=None, message=f"the body is not valid JSON: {reason}")
    if field is None and kind in ("model_attributes_type", "dict_type", "missing"):
        return FieldErrorOut(
            field=None,
            message="send a JSON object as the body, with Content-Type: application/json",
        )
    message = _FRIENDLY_MESSAGES.get(kind) or str(error.get("msg", "is not valid"))
    return FieldErrorOut(field=field, message=f"{field}: {message}" if field else message)


async def _on_request_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [_describe(e) for e in exc.errors()] or [
        FieldErrorOut(field=None, message="the request is not valid")
    ]
    first = errors[0]
    return error_response(422, "invalid_field", first.message, field=first.field, errors=errors)


async def _on_invalid_field(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InvalidField)
    message = f"{exc.field}: {exc.reason}"
    return error_response(
        422,
        "invalid_field",
        message,
        field=exc.field,
        errors=[FieldErrorOut(field=exc.field, message=message)],
    )


def _game_error_message(exc: GameError) -> str:
    if isinstance(exc, TransitionNotAllowed) and exc.target == "CANCELLED":
        return f"cannot cancel: the game is already {exc.current.lower().replace('_', ' ')}"
    return str(exc)


async def _on_game_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, GameError)
    status, code = next(
        (v for k, v in _GAME_ERRORS.items() if isinstance(exc, k)), (409, "conflict")
    )
    return error_response(status, code, _game_error_message(exc))


async def _on_http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400:
        # FastAPI's answer to a body it cannot decode (not UTF-8): the same 422 as bad JSON.
        message = "the body is not valid JSON: it must be UTF-8 text"
        return error_response(
            422, "invalid_field", message, errors=[FieldErrorOut(field=None, message=message)]
        )
    codes = {401: "unauthorized", 404: "not_found", 405: "method_not_allowed"}
    message = {404: f"no route {request.url.path}"}.get(exc.status_code, str(exc.detail))
    return error_response(
        exc.status_code,
        codes.get(exc.status_code, "http_error"),
        message,
        headers=dict(exc.headers) if exc.headers else None,
    )


async def _on_api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    errors = [FieldErrorOut(field=exc.field, message=exc.message)] if exc.status == 422 else []
    return error_response(exc.status, exc.code, exc.message, field=exc.field, errors=errors)


def is_connection_loss(exc: BaseException) -> bool:
    """True for a lost or unreachable database, as opposed to a bug in a query."""
    if isinstance(exc, PoolTimeoutError):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    # psycopg reports a cut connection, a refused one and a terminated backend as an
    # OperationalError (or InterfaceError once the connection is closed); SQLAlchemy also
    # marks the connection invalidated. A bad query is a ProgrammingError, DataError, ...
    return exc.connection_invalidated or isinstance(exc.orig, OperationalError | InterfaceError)


async def _on_database_error(request: Request, exc: Exception) -> JSONResponse:
    if not is_connection_loss(exc):
        raise exc  # a bug: the 500 handler answers, and the server logs the traceback
    # One line, no traceback: a blip is an operational event, not a bug.
    log.warning(
        "database unavailable during a request; answered 503",
        extra={"path": request.url.path, "error": type(getattr(exc, "orig", exc)).__name__},
    )
    return error_response(
        503,
        "service_unavailable",
        "the database connection was lost during the request; nothing was changed, and the"
        f" request can be repeated safely in {RETRY_AFTER} seconds",
        headers={"Retry-After": str(RETRY_AFTER)},
    )


async def _on_discord_unavailable(request: Request, exc: Exception) -> JSONResponse:
    # Who is a member and with which roles is Discord's to say: without it, no guess.
    log.warning(
        "Discord unavailable during a request; answered 503", extra={"path": request.url.path}
    )
    return error_response(
        503,
        "discord_unavailable",
        "Discord did not answer the bot's lookup; nothing was changed, and the request can"
        f" be repeated in {DISCORD_RETRY_AFTER} seconds",
        headers={"Retry-After": str(DISCORD_RETRY_AFTER)},
    )


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    # Starlette re-raises after this answer, so the server logs the traceback once; the
    # client learns only that it was not its fault.
    return error_response(500, "internal_error", "the server failed; the error was logged")


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error, expected or not, in the one JSON error shape."""
    app.add_exception_handler(RequestValidationError, _on_request_validation)
    app.add_exception_handler(InvalidField, _on_invalid_field)
    app.add_exception_handler(GameError, _on_game_error)
    app.add_exception_handler(ApiError, _on_api_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
    app.add_exception_handler(DBAPIError, _on_database_error)
    app.add_exception_handler(PoolTimeoutError, _on_database_error)
    app.add_exception_handler(DiscordUnavailable, _on_discord_unavailable)
    app.add_exception_handler(Exception, _on_unexpected)
