"""The demo server `game-scheduler sandbox` (and so `make run`) starts with.

A newcomer can log in as any of its people on the sandbox's authorize page: the owner
(every right), a host (the "Game host" role, which `run` makes a host role in the
server's settings) and plain members. Its channel is the one `make demo` posts to.
"""

from __future__ import annotations

from game_scheduler.sandbox.payloads import DEFAULT_GUILD_ID, JSON

DEMO_GUILD_ID = DEFAULT_GUILD_ID
DEMO_CHANNEL_ID = 900_000_000_000_000_002
DEMO_OWNER_ID = 900_000_000_000_000_003
DEMO_HOST_ID = 900_000_000_000_000_004
DEMO_MEMBER_IDS = (900_000_000_000_000_011, 900_000_000_000_000_012, 900_000_000_000_000_013)
DEMO_HOST_ROLE_ID = 900_000_000_000_000_020


def demo_server() -> JSON:
    """The demo server as `POST /sandbox/guilds` takes it."""
    members = [
        {"user_id": str(DEMO_OWNER_ID), "username": "Olivia (owner)", "roles": []},
        {
            "user_id": str(DEMO_HOST_ID),
            "username": "Hugo (host)",
            "roles": [str(DEMO_HOST_ROLE_ID)],
        },
    ]
    names = ("Mia (member)", "Max (member)", "Mo (member)")
    members += [
        {"user_id": str(user_id), "username": name, "roles": []}
        for user_id, name in zip(DEMO_MEMBER_IDS, names, strict=True)
    ]
    return {
        "guild_id": str(DEMO_GUILD_ID),
        "name": "Demo Server",
        "owner_id": str(DEMO_OWNER_ID),
        "roles": [{"id": str(DEMO_HOST_ROLE_ID), "name": "Game host", "permissions": "0"}],
        "members": members,
        "channels": [{"id": str(DEMO_CHANNEL_ID), "name": "games"}],
    }
