"""Acknowledgements sent in as few frames as possible: one multiple-ack per run of done messages.

Acking each message with a frame of its own costs a socket write per message, the largest
single cost of a consumer settling thousands of no-op events a second. Delivery tags
grow in delivery order on a channel, so once every message up to tag N is done, one
`basic.ack(N, multiple=True)` settles them all. A message done behind one still in hand
(a long handler) waits at most `hold` seconds, then is acked alone, so that it does not
keep its prefetch slot. A multiple-ack never covers a message not yet done.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field

from aio_pika.abc import AbstractIncomingMessage
from aio_pika.exceptions import CONNECTION_EXCEPTIONS, ChannelInvalidStateError
from aiormq.abc import AbstractChannel

logger = logging.getLogger(__name__)

FLUSH_DELAY = 0.005  # seconds a done message waits for others to share its frame
HOLD = 0.05  # seconds a done message waits behind one in hand before it is acked alone


@dataclass
class _ChannelAcks:
    """The messages in hand on one channel: delivery tag -> when it was done (None: not yet)."""

    channel: AbstractChannel
    in_hand: dict[int, float | None] = field(default_factory=dict)


class AckBatcher:
    """Collects acks per channel and sends them together, a few milliseconds later."""

    def __init__(self, *, flush_delay: float = FLUSH_DELAY, hold: float = HOLD) -> None:
        self._flush_delay = flush_delay
        self._hold = hold
        self._channels: dict[int, _ChannelAcks] = {}
        self._flusher: asyncio.Task[None] | None = None

    def _of(self, message: AbstractIncomingMessage) -> _ChannelAcks | None:
        try:
            channel = message.channel
        except ChannelInvalidStateError:
            return None  # the channel died: the broker redelivers what it had in hand
        acks = self._channels.get(id(channel))
        if acks is None or acks.channel is not channel:
            acks = self._channels[id(channel)] = _ChannelAcks(channel)
        return acks

    def received(self, message: AbstractIncomingMessage) -> None:
        """A delivery was taken in hand (call first thing, in delivery order)."""
        acks = self._of(message)
        if acks is not None and message.delivery_tag is not None:
            acks.in_hand[message.delivery_tag] = None

    def done(self, message: AbstractIncomingMessage) -> None:
        """The message is handled: ack it soon, together with its neighbours."""
        acks = self._of(message)
        if acks is None or message.delivery_tag not in acks.in_hand:
            return
        acks.in_hand[message.delivery_tag] = time.monotonic()
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_soon(), name="consumer-acks")

    def forget(self, message: AbstractIncomingMessage) -> None:
        """The message is settled otherwise (nacked or rejected): not ours to ack."""
        acks = self._of(message)
        if acks is not None and message.delivery_tag is not None:
            acks.in_hand.pop(message.delivery_tag, None)

    def _any_done(self) -> bool:
        return any(t is not None for a in self._channels.values() for t in a.in_hand.values())

    async def _flush_soon(self) -> None:
        while self._any_done():
            await asyncio.sleep(self._flush_delay)
            await self.flush()
            if self._any_done():
                # What is left waits behind a message in hand: look again within the hold.
                await asyncio.sleep(self._hold / 2)

    async def flush(self, *, everything: bool = False) -> None:
        """Send the acks due now (`everything`: every done message, for a clean stop)."""
        now = time.monotonic()
        for key, acks in list(self._channels.items()):
            last: int | None = None
            for tag, done_at in list(acks.in_hand.items()):
                if done_at is None:
                    break
                last = tag
                del acks.in_hand[tag]
            alone = [
                tag
                for tag, done_at in acks.in_hand.items()
                if done_at is not None and (everything or now - done_at >= self._hold)
            ]
            for tag in alone:
                del acks.in_hand[tag]
            try:
                if last is not None:
                    await acks.channel.basic_ack(delivery_tag=last, multiple=True)
                for tag in alone:
                    await acks.channel.basic_ack(delivery_tag=tag)
            except (*CONNECTION_EXCEPTIONS, ChannelInvalidStateError) as exc:
                # The channel died with them in hand: the broker redelivers them.
                logger.warning(
                    "could not send acks; they will be redelivered", extra={"error": repr(exc)}
                )
                del self._channels[key]

    async def close(self) -> None:
        """Send every ack still waiting."""
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._flusher
        await self.flush(everything=True)
