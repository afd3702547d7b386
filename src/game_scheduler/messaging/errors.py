"""The messaging package's exceptions: one root, and subclasses that carry what a caller needs."""

from __future__ import annotations

from collections.abc import Sequence


class MessagingError(Exception):
    """Root of every error raised by `game_scheduler.messaging`."""


class PublishError(MessagingError):
    """A batch was not confirmed in full: the caller must not mark any of its rows processed.

    `message_ids` are the ids of the whole batch (none of them is known to be safe), and
    `failed_message_ids` the ones the broker explicitly returned or nacked, when known.
    """

    def __init__(
        self,
        reason: str,
        *,
        message_ids: Sequence[str] = (),
        failed_message_ids: Sequence[str] = (),
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.message_ids: tuple[str, ...] = tuple(message_ids)
        self.failed_message_ids: tuple[str, ...] = tuple(failed_message_ids)


class InvalidMessageError(MessagingError):
    """A delivered message cannot be decoded or validated: it goes to the dead-letter queue."""

    def __init__(self, reason: str, *, message_id: str | None, event_type: str | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.message_id = message_id
        self.event_type = event_type
