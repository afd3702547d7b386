"""The Gateway websocket: HELLO, IDENTIFY -> READY and GUILD_CREATE, heartbeats, RESUME."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from game_scheduler.sandbox import payloads
from game_scheduler.sandbox.payloads import JSON
from game_scheduler.sandbox.state import SandboxState

logger = logging.getLogger(__name__)

DISPATCH, HEARTBEAT, IDENTIFY, RESUME, HELLO, INVALID_SESSION, HEARTBEAT_ACK = 0, 1, 2, 6, 10, 9, 11
HEARTBEAT_INTERVAL_MS = 41_250
# Real Discord's ACK crosses a network; answering at once races discord.py's keep-alive
# thread, which records its send only after the event loop has written it, and then reads
# as a 41 s latency with a "Can't keep up" warning at every heartbeat.
HEARTBEAT_ACK_DELAY = 0.2  # seconds
# Enough events to replay after a short disconnect; older sessions are forgotten.
BACKLOG_SIZE = 1000
MAX_SESSIONS = 50

INTENT_GUILDS = 1 << 0
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_DIRECT_MESSAGES = 1 << 12


@dataclass
class GatewaySession:
    """A bot's Gateway session: survives a dropped socket so the bot can RESUME it."""

    session_id: str
    intents: int
    shard: list[int] | None = None
    sequence: int = 0
    socket: web.WebSocketResponse | None = None
    backlog: deque[JSON] = field(default_factory=lambda: deque(maxlen=BACKLOG_SIZE))

    def wants(self, intent: int | None) -> bool:
        """Tell whether this session asked for events behind an intent."""
        return intent is None or bool(self.intents & intent)


def gateway_url(request: web.Request) -> str:
    """Return the websocket URL of this sandbox, as the client reached it."""
    scheme = "wss" if request.secure else "ws"
    return f"{scheme}://{request.host}/gateway"


class GatewayHub:
    """All Gateway sessions; REST handlers and the click endpoint dispatch events through it."""

    def __init__(
        self,
        state: SandboxState,
        *,
        heartbeat_interval_ms: int = HEARTBEAT_INTERVAL_MS,
        heartbeat_ack_delay: float = HEARTBEAT_ACK_DELAY,  # seconds
    ) -> None:
        self._state = state
        self._sessions: dict[str, GatewaySession] = {}
        self._sockets: set[web.WebSocketResponse] = set()
        self._heartbeat_interval_ms = heartbeat_interval_ms
        self._heartbeat_ack_delay = heartbeat_ack_delay
        self._acks: set[asyncio.Task[bool]] = set()

    @property
    def connected(self) -> int:
        """Return how many sessions have a live socket."""
        return sum(1 for s in self._sessions.values() if s.socket is not None)

    async def dispatch(self, event: str, data: JSON, *, intent: int | None = None) -> int:
        """Send a DISPATCH to every session that wants it; return how many are connected."""
        delivered = 0
        for session in list(self._sessions.values()):
            if not session.wants(intent):
                continue
            frame = self._next_frame(session, event, data)
            if session.socket is not None and await _send(session.socket, frame):
                delivered += 1
        return delivered

    async def close_all(self) -> None:
        """Close every socket with 1001 (going away), as Discord does on a restart."""
        for ack in list(self._acks):
            ack.cancel()
        for socket in list(self._sockets):
            await socket.close(code=aiohttp.WSCloseCode.GOING_AWAY, message=b"sandbox stopping")

    def reset(self) -> None:
        """Forget sessions that are not connected; connected bots keep theirs."""
        for key in [k for k, s in self._sessions.items() if s.socket is None]:
            del self._sessions[key]

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        """Serve one Gateway websocket connection (GET /gateway)."""
        # discord.py may ask for zlib-stream in the query; text frames are never compressed,
        # and it only inflates binary frames, so the query is ignored.
        socket = web.WebSocketResponse(max_msg_size=0)
        await socket.prepare(request)
        self._sockets.add(socket)
        session: GatewaySession | None = None
        try:
            hello = {"heartbeat_interval": self._heartbeat_interval_ms}
            await _send(socket, {"op": HELLO, "d": hello})
            async for message in socket:
                if message.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                    break
                frame = json.loads(message.data)
                session = await self._on_frame(request, socket, frame, session)
        finally:
            self._sockets.discard(socket)
            if session is not None and session.socket is socket:
                session.socket = None
        return socket

    async def _on_frame(
        self,
        request: web.Request,
        socket: web.WebSocketResponse,
        frame: dict[str, Any],
        session: GatewaySession | None,
    ) -> GatewaySession | None:
        op = frame.get("op")
        data = frame.get("d")
        if op == HEARTBEAT:
            # Answered after a network-like delay, without holding up the frames behind it.
            ack = asyncio.create_task(self._ack_heartbeat(socket))
            self._acks.add(ack)
            ack.add_done_callback(self._acks.discard)
        elif op == IDENTIFY and isinstance(data, dict):
            session = self._new_session(data)
            session.socket = socket
            await self._ready(request, session)
        elif op == RESUME and isinstance(data, dict):
            session = await self._resume(socket, data)
        # Presence, voice and member requests change nothing the sandbox models.
        return session

    async def _ack_heartbeat(self, socket: web.WebSocketResponse) -> bool:
        await asyncio.sleep(self._heartbeat_ack_delay)
        return await _send(socket, {"op": HEARTBEAT_ACK})

    def _new_session(self, identify: dict[str, Any]) -> GatewaySession:
        if len(self._sessions) >= MAX_SESSIONS:
            idle = [k for k, s in self._sessions.items() if s.socket is None]
            for key in idle[: len(idle) // 2 + 1]:
                del self._sessions[key]
        shard = identify.get("shard")
        session = GatewaySession(
            session_id=secrets.token_hex(16),
            intents=int(identify.get("intents", (1 << 17) - 1)),
            shard=list(shard) if isinstance(shard, list) else None,
        )
        self._sessions[session.session_id] = session
        logger.info("gateway session %s identified", session.session_id)
        return session

    async def _ready(self, request: web.Request, session: GatewaySession) -> None:
        guild_id = payloads.DEFAULT_GUILD_ID
        described = [g for g in self._state.guilds if g != guild_id]
        ready: JSON = {
            "v": 10,
            "user": payloads.bot_user_payload(),
            "guilds": [{"id": str(g), "unavailable": True} for g in [guild_id, *described]],
            "session_id": session.session_id,
            "session_type": "normal",
            "resume_gateway_url": gateway_url(request),
            "application": {"id": str(payloads.APPLICATION_ID), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "user_settings": {},
            "_trace": ["game-scheduler-sandbox"],
        }
        if session.shard is not None:
            ready["shard"] = session.shard
        assert session.socket is not None  # set by the caller just before
        await _send(session.socket, self._next_frame(session, "READY", ready))
        for one in [guild_id, *described]:
            guild = self._state.guild_create(one)
            await _send(session.socket, self._next_frame(session, "GUILD_CREATE", guild))

    async def _resume(
        self, socket: web.WebSocketResponse, data: dict[str, Any]
    ) -> GatewaySession | None:
        session = self._sessions.get(str(data.get("session_id")))
        if session is None:
            # d=false: the session cannot be resumed, the client must IDENTIFY again.
            await _send(socket, {"op": INVALID_SESSION, "d": False})
            return None
        session.socket = socket
        seen = int(data.get("seq") or 0)
        for frame in list(session.backlog):
            if frame["s"] > seen:
                await _send(socket, frame)
        await _send(socket, self._next_frame(session, "RESUMED", {"_trace": []}))
        logger.info("gateway session %s resumed after seq %d", session.session_id, seen)
        return session

    def _next_frame(self, session: GatewaySession, event: str, data: JSON) -> JSON:
        session.sequence += 1
        frame: JSON = {"op": DISPATCH, "t": event, "s": session.sequence, "d": data}
        session.backlog.append(frame)
        return frame


async def _send(socket: web.WebSocketResponse, frame: JSON) -> bool:
    """Send one text frame; a socket closing under us is not an error for the sender."""
    if socket.closed:
        return False
    try:
        await socket.send_str(json.dumps(frame))
    except (ConnectionError, RuntimeError):
        return False
    return True
