"""Fault injection: the next N calls matching a route answer with a chosen error."""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from game_scheduler.sandbox.errors import DEFAULT_CODE_FOR_STATUS, SandboxError

DEFAULT_RETRY_AFTER = 1.0  # seconds, when a 429 fault names none


class InvalidFaultError(SandboxError):
    """A fault request the sandbox cannot honour."""


@dataclass
class Fault:
    """One armed fault: a "METHOD /glob/path" route, the answer, and how many calls remain."""

    method: str
    path_glob: str
    status: int
    remaining: int
    retry_after: float | None = None
    code: int | None = None

    def matches(self, method: str, path: str) -> bool:
        """Tell whether a call (path relative to /api/v10) is one this fault answers."""
        return (self.method in ("*", method.upper())) and fnmatchcase(path, self.path_glob)

    def error_code(self) -> int:
        """Return the JSON error code this fault answers with."""
        if self.code is not None:
            return self.code
        return DEFAULT_CODE_FOR_STATUS.get(self.status, 0)

    def describe(self) -> dict[str, Any]:
        """Return the fault as JSON for the control API."""
        return {
            "route": f"{self.method} {self.path_glob}",
            "status": self.status,
            "count": self.remaining,
            "retry_after": self.retry_after,
            "code": self.code,
        }


def parse_fault(body: dict[str, Any]) -> Fault:
    """Build a fault from the JSON body of POST /sandbox/faults."""
    route = str(body.get("route", "")).strip()
    method, _, path = route.partition(" ")
    if not path.startswith("/") and not path.startswith("*"):
        raise InvalidFaultError('route must look like "PATCH /channels/*/messages/*"')
    path = path.strip().removeprefix("/api/v10")
    try:
        status = int(body["status"])
        count = int(body.get("count", 1))
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidFaultError("status (int) is required; count must be an int") from exc
    if not 400 <= status <= 599:
        raise InvalidFaultError("status must be an HTTP error status (400-599)")
    if count < 1:
        raise InvalidFaultError("count must be at least 1")
    retry_after = body.get("retry_after")
    code = body.get("code")
    return Fault(
        method=method.upper(),
        path_glob=path,
        status=status,
        remaining=count,
        retry_after=float(retry_after) if retry_after is not None else None,
        code=int(code) if code is not None else None,
    )


class FaultTable:
    """The armed faults, consumed in the order they were added."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        """Arm a fault."""
        self._faults.append(fault)

    def take(self, method: str, path: str) -> Fault | None:
        """Return the first fault matching a call, counting the call against it."""
        for fault in self._faults:
            if fault.matches(method, path):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    def describe(self) -> list[dict[str, Any]]:
        """Return the armed faults as JSON."""
        return [fault.describe() for fault in self._faults]

    def clear(self) -> None:
        """Disarm every fault."""
        self._faults.clear()
