"""Events settled in batches, before any handler runs: the consumer's fast path.

Most events in a deep queue need no Discord call: duplicates, events of games that no
longer exist, refreshes of a game whose message already shows it. Handling them one at a
time costs a database round trip each (about 250 a second). A `Triage` looks at a whole
batch at once (one query for the batch) and answers which message ids it settled; the
consumer acknowledges those without calling their handlers. Batches form by themselves:
whatever arrives while the previous batch is being triaged is the next batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Collection, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from game_scheduler.messaging.consumer import ReceivedEvent

logger = logging.getLogger(__name__)

# Given a batch, the message ids needing no handler (done, and recorded as handled).
Triage = Callable[[Sequence["ReceivedEvent"]], Awaitable[Collection[str]]]

BATCH_MAX = 500  # events per triage call
IN_FLIGHT = 4  # triage calls at once: a batch forms while others wait on the database
GATHER_SECONDS = 0.002  # a first event waits this long for others to join its batch


class TriageBatcher:
    """Collects events into batches, triages each batch once, and tells each event's fate."""

    def __init__(
        self, triage: Triage, *, batch_max: int = BATCH_MAX, in_flight: int = IN_FLIGHT
    ) -> None:
        self._triage = triage
        self._batch_max = batch_max
        self._slots = asyncio.Semaphore(in_flight)
        self._running: set[asyncio.Task[None]] = set()
        self._pending: list[tuple[ReceivedEvent, asyncio.Future[bool]]] = []
        self._worker: asyncio.Task[None] | None = None

    async def settled(self, received: ReceivedEvent, *, first: bool = False) -> bool:
        """True when the event was settled in its batch (no handler needed).

        `first` puts it at the head of the next batch (a fresh event, ahead of a backlog).
        """
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        if first:
            self._pending.insert(0, (received, future))
        else:
            self._pending.append((received, future))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._work(), name="consumer-triage")
        return await future

    async def _work(self) -> None:
        await asyncio.sleep(GATHER_SECONDS)
        while self._pending:
            await self._slots.acquire()
            batch = self._pending[: self._batch_max]
            del self._pending[: self._batch_max]
            task = asyncio.create_task(self._settle(batch), name="consumer-triage-batch")
            self._running.add(task)
            task.add_done_callback(self._running.discard)
            # Let the next batch gather while this one waits on the database.
            await asyncio.sleep(GATHER_SECONDS)

    async def _settle(self, batch: list[tuple[ReceivedEvent, asyncio.Future[bool]]]) -> None:
        try:
            live = [(event, future) for event, future in batch if not future.done()]
            done: Collection[str] = ()
            try:
                done = set(await self._triage([event for event, _ in live]))
            except Exception:
                # The handlers decide then, and fail or retry as they would have.
                logger.exception("triage failed; handling the batch one by one")
            for event, future in live:
                if not future.done():
                    future.set_result(event.message_id in done)
        finally:
            self._slots.release()

    async def close(self) -> None:
        """Let the batches in hand finish."""
        if self._worker is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await self._worker
        if self._running:
            await asyncio.wait(set(self._running))
