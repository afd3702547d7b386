"""What can go wrong when changing a game; the API maps these to HTTP status codes."""

from __future__ import annotations

from uuid import UUID


class GameError(Exception):
    """Root of every error the game service raises on purpose."""


class GameNotFound(GameError):
    """No game has this id."""

    def __init__(self, game_id: UUID) -> None:
        super().__init__(f"no game with id {game_id}")
        self.game_id = game_id


class GameNotOpen(GameError):
    """The game's status forbids the change (joining a started or cancelled game, ...)."""

    def __init__(self, game_id: UUID, status: str, action: str) -> None:
        super().__init__(f"cannot {action}: the game is {status.lower().replace('_', ' ')}")
        self.game_id = game_id
        self.status = status
        self.action = action


class AlreadyJoined(GameError):
    """The user is already in the game."""

    def __init__(self, game_id: UUID, user_id: int) -> None:
        super().__init__(f"user {user_id} has already joined this game")
        self.game_id = game_id
        self.user_id = user_id


class NotJoined(GameError):
    """The user is not in the game."""

    def __init__(self, game_id: UUID, user_id: int) -> None:
        super().__init__(f"user {user_id} is not in this game")
        self.game_id = game_id
        self.user_id = user_id


class TransitionNotAllowed(GameError):
    """The status machine forbids moving from `current` to `target`."""

    def __init__(self, game_id: UUID, current: str, target: str) -> None:
        super().__init__(f"a {current} game cannot become {target}")
        self.game_id = game_id
        self.current = current
        self.target = target


class ParticipantNotFound(GameError):
    """The game has no player (or placeholder) with this participant id."""

    def __init__(self, game_id: UUID, participant_id: UUID) -> None:
        super().__init__(f"this game has no player with id {participant_id}")
        self.game_id = game_id
        self.participant_id = participant_id


class NotOnRoster(GameError):
    """A roster change that names no one it can apply to (moving up the first player)."""

    def __init__(self, game_id: UUID, reason: str) -> None:
        super().__init__(reason)
        self.game_id = game_id


class SeriesNotFound(GameError):
    """No series has this id."""

    def __init__(self, series_id: UUID) -> None:
        super().__init__(f"no series with id {series_id}")
        self.series_id = series_id


class SeriesEnded(GameError):
    """The series has ended: it can be read, not changed."""

    def __init__(self, series_id: UUID, action: str) -> None:
        super().__init__(f"cannot {action}: the series has ended")
        self.series_id = series_id
        self.action = action


class TemplateNotFound(GameError):
    """The server has no template by this id or name (another server's does not count)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"this server has no template {name!r}")
        self.name = name


class TemplateNameTaken(GameError):
    """Another template of the server already has this name."""

    def __init__(self, name: str) -> None:
        super().__init__(f"this server already has a template named {name!r}")
        self.name = name


class TemplateNotAllowed(GameError):
    """The template is kept for roles the person does not have."""

    def __init__(self, name: str) -> None:
        super().__init__(f"the template {name!r} is for other host roles than yours")
        self.name = name
