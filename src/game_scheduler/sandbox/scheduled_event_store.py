"""What the sandbox keeps of guild scheduled events (the Events tab), and Discord's rules.

Checked as Discord checks them: a name of 1-100 characters, privacy level 2 (guild only),
an external event needs a location and an end time, the end after the start, the start
in the future, at most 100 events per server that have not ended, and only the status
moves SCHEDULED -> ACTIVE or CANCELED, ACTIVE -> COMPLETED. A finished event cannot be
changed. `/sandbox/state` shows every event, finished ones too, under
`"scheduled_events": {"<guild id>": [...]}`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from game_scheduler.sandbox import payloads
from game_scheduler.sandbox.errors import DiscordError, invalid_form_body
from game_scheduler.sandbox.payloads import JSON
from game_scheduler.sandbox.snowflakes import SnowflakeGenerator

NAME_MAX = 100
DESCRIPTION_MAX = 1000
LOCATION_MAX = 100
EVENTS_PER_GUILD_MAX = 100  # that have not ended
GUILD_ONLY = 2
STAGE_INSTANCE, VOICE, EXTERNAL = 1, 2, 3
SCHEDULED, ACTIVE, COMPLETED, CANCELED = 1, 2, 3, 4
NEXT_STATUSES = {SCHEDULED: {ACTIVE, CANCELED}, ACTIVE: {COMPLETED}}
UNKNOWN_EVENT = 10070
TOO_MANY_EVENTS = 30038
EVENT_FINISHED = 180000
_FIELDS = (
    "name",
    "description",
    "scheduled_start_time",
    "scheduled_end_time",
    "privacy_level",
    "entity_type",
    "entity_metadata",
    "channel_id",
    "status",
)

Errors = dict[str, Any]


def _error(code: str, message: str) -> Errors:
    return {"_errors": [{"code": code, "message": message}]}


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass
class ScheduledEvent:
    """One event as Discord stores it."""

    data: JSON
    edits: int = 0

    @property
    def status(self) -> int:
        """SCHEDULED, ACTIVE, COMPLETED or CANCELED."""
        return int(self.data["status"])

    def snapshot(self) -> JSON:
        """The event as /sandbox/state shows it."""
        return {**self.data, "edits": self.edits}


@dataclass
class ScheduledEventStore:
    """Every server's events, validated and numbered as Discord would."""

    snowflakes: SnowflakeGenerator
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    by_guild: dict[int, dict[int, ScheduledEvent]] = field(default_factory=dict)

    def reset(self) -> None:
        """Forget every event."""
        self.by_guild.clear()

    def _check(self, merged: JSON, *, creating: bool, start_changed: bool) -> None:
        errors: Errors = {}
        name = merged.get("name")
        if not isinstance(name, str) or not name.strip():
            errors["name"] = _error("BASE_TYPE_REQUIRED", "This field is required")
        elif len(name) > NAME_MAX:
            errors["name"] = _error(
                "BASE_TYPE_MAX_LENGTH", f"Must be {NAME_MAX} or fewer in length."
            )
        description = merged.get("description")
        if description is not None and len(str(description)) > DESCRIPTION_MAX:
            errors["description"] = _error(
                "BASE_TYPE_MAX_LENGTH", f"Must be {DESCRIPTION_MAX} or fewer in length."
            )
        if merged.get("privacy_level") != GUILD_ONLY:
            errors["privacy_level"] = _error(
                "ENUM_TYPE_COERCE", "Value is not a valid enum value (2 is the only one)."
            )
        if merged.get("entity_type") not in (STAGE_INSTANCE, VOICE, EXTERNAL):
            errors["entity_type"] = _error("ENUM_TYPE_COERCE", "Value is not a valid enum value.")
        start = _parse_time(merged.get("scheduled_start_time"))
        end = _parse_time(merged.get("scheduled_end_time"))
        if start is None:
            errors["scheduled_start_time"] = _error(
                "DATE_TIME_TYPE_CONVERT", "Could not interpret the value as an ISO8601 timestamp."
            )
        elif (creating or start_changed) and start <= self.now():
            errors["scheduled_start_time"] = _error(
                "GUILD_SCHEDULED_EVENT_SCHEDULE_PAST", "Cannot schedule event in the past."
            )
        if merged.get("entity_type") == EXTERNAL:
            metadata = merged.get("entity_metadata") or {}
            location = metadata.get("location") if isinstance(metadata, dict) else None
            if not isinstance(location, str) or not location.strip():
                errors["entity_metadata"] = {
                    "location": _error("BASE_TYPE_REQUIRED", "This field is required")
                }
            elif len(location) > LOCATION_MAX:
                errors["entity_metadata"] = {
                    "location": _error(
                        "BASE_TYPE_MAX_LENGTH", f"Must be {LOCATION_MAX} or fewer in length."
                    )
                }
            if merged.get("channel_id") is not None:
                errors["channel_id"] = _error(
                    "GUILD_SCHEDULED_EVENT_EXTERNAL_CHANNEL", "An external event has no channel."
                )
            if end is None:
                errors["scheduled_end_time"] = _error(
                    "BASE_TYPE_REQUIRED", "An external event needs an end time."
                )
        if start is not None and end is not None and end <= start:
            errors["scheduled_end_time"] = _error(
                "GUILD_SCHEDULED_EVENT_END_BEFORE_START", "The end must be after the start."
            )
        if errors:
            raise invalid_form_body(errors)

    def _unfinished(self, guild_id: int) -> int:
        events = self.by_guild.get(guild_id, {}).values()
        return sum(1 for e in events if e.status in (SCHEDULED, ACTIVE))

    def create(self, guild_id: int, body: JSON) -> JSON:
        """Store a new event from a create body, or raise Discord's error."""
        merged = {k: body.get(k) for k in _FIELDS if k in body}
        merged.pop("status", None)
        self._check(merged, creating=True, start_changed=True)
        if self._unfinished(guild_id) >= EVENTS_PER_GUILD_MAX:
            raise DiscordError(400, TOO_MANY_EVENTS)
        event_id = self.snowflakes.next()
        bot = payloads.bot_user_payload()
        data: JSON = {
            "id": str(event_id),
            "guild_id": str(guild_id),
            "channel_id": None,
            "creator_id": bot["id"],
            "creator": bot,
            "description": None,
            "entity_id": None,
            "entity_metadata": None,
            "image": None,
            "recurrence_rule": None,
            "user_count": 0,
            **merged,
            "status": SCHEDULED,
        }
        self.by_guild.setdefault(guild_id, {})[event_id] = ScheduledEvent(data)
        return data

    def get(self, guild_id: int, event_id: int) -> ScheduledEvent:
        """One event, or Discord's Unknown Guild Scheduled Event."""
        found = self.by_guild.get(guild_id, {}).get(event_id)
        if found is None:
            raise DiscordError(404, UNKNOWN_EVENT)
        return found

    def modify(self, guild_id: int, event_id: int, body: JSON) -> JSON:
        """Apply a modify body, with the status rules, or raise Discord's error."""
        stored = self.get(guild_id, event_id)
        if stored.status not in NEXT_STATUSES:
            raise DiscordError(400, EVENT_FINISHED)
        changes = {k: body[k] for k in _FIELDS if k in body}
        status = changes.pop("status", None)
        moves = status is not None and status != stored.status
        if moves and status not in NEXT_STATUSES[stored.status]:
            raise invalid_form_body(
                {"status": _error("GUILD_SCHEDULED_EVENT_STATUS", "Invalid status change.")}
            )
        start_changed = "scheduled_start_time" in changes and _parse_time(
            changes["scheduled_start_time"]
        ) != _parse_time(stored.data.get("scheduled_start_time"))
        if start_changed and stored.status == ACTIVE:
            raise invalid_form_body(
                {
                    "scheduled_start_time": _error(
                        "GUILD_SCHEDULED_EVENT_ACTIVE", "An active event keeps its start time."
                    )
                }
            )
        self._check({**stored.data, **changes}, creating=False, start_changed=start_changed)
        stored.data.update(changes)
        if status is not None:
            stored.data["status"] = status
        stored.edits += 1
        return stored.data

    def delete(self, guild_id: int, event_id: int) -> None:
        """Delete an event, or raise Unknown Guild Scheduled Event."""
        self.get(guild_id, event_id)
        del self.by_guild[guild_id][event_id]

    def listed(self, guild_id: int) -> list[JSON]:
        """What the list route answers: the events that have not ended, as Discord lists."""
        events = self.by_guild.get(guild_id, {}).values()
        return [e.data for e in events if e.status in (SCHEDULED, ACTIVE)]

    def snapshot(self) -> dict[str, list[JSON]]:
        """Every event of every server, finished ones too, for /sandbox/state."""
        return {
            str(guild_id): [e.snapshot() for e in events.values()]
            for guild_id, events in self.by_guild.items()
            if events
        }
