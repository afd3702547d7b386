"""Discord's error bodies ({"message", "code"}) and the exception that carries them."""

from __future__ import annotations

from typing import Any

# The JSON error codes the sandbox can answer with, and Discord's wording for them.
ERROR_MESSAGES: dict[int, str] = {
    0: "General error",
    10002: "Unknown Application",
    10003: "Unknown Channel",
    10004: "Unknown Guild",
    10007: "Unknown Member",
    10008: "Unknown Message",
    10013: "Unknown User",
    10015: "Unknown Webhook",
    10062: "Unknown interaction",
    10070: "Unknown Guild Scheduled Event",
    30038: "Maximum number of uncompleted guild scheduled events reached (100)",
    40060: "Interaction has already been acknowledged.",
    50001: "Missing Access",
    50006: "Cannot send an empty message",
    50007: "Cannot send messages to this user",
    50013: "Missing Permissions",
    50035: "Invalid Form Body",
    180000: "Cannot update a finished event",
}

# The code a fault gets when the caller names a status but no code.
DEFAULT_CODE_FOR_STATUS: dict[int, int] = {
    400: 50035,
    403: 50013,
    404: 10008,
}


class SandboxError(Exception):
    """Root of the sandbox's errors."""


class DiscordError(SandboxError):
    """An error the sandbox answers as Discord would: an HTTP status and a JSON body."""

    def __init__(self, status: int, code: int, errors: dict[str, Any] | None = None) -> None:
        self.status = status
        self.code = code
        self.errors = errors
        super().__init__(f"{status} {code} {error_message(status, code)}")

    def body(self) -> dict[str, Any]:
        """Return Discord's JSON error body for this error."""
        data: dict[str, Any] = {"message": error_message(self.status, self.code), "code": self.code}
        if self.errors:
            data["errors"] = self.errors
        return data


def error_message(status: int, code: int) -> str:
    """Return Discord's message text for an error code (or the bare status for code 0)."""
    if code == 0:
        return f"{status}: {_STATUS_TEXT.get(status, 'Error')}"
    return ERROR_MESSAGES.get(code, "Unknown error")


def invalid_form_body(errors: dict[str, Any]) -> DiscordError:
    """Build the 400 50035 error Discord answers invalid payloads with."""
    return DiscordError(400, 50035, errors)


_STATUS_TEXT: dict[int, str] = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
