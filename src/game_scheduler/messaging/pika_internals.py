"""The four pika internals the publisher relies on, in one place, checked before use.

pika's public API cannot pipeline a batch with confirms on a `BlockingConnection`, nor
write a batch's frames in one socket write. These four private names can:

1. `Connection._output_marshaled_frames`: every outgoing frame passes through it; our
   `CoalescingConnection` overrides it to hold a batch's frames and write them as one.
2. `BlockingConnection(..., _impl_class=...)`: how pika lets a caller choose the
   connection underneath a blocking one.
3. `BlockingConnection._impl`: that connection underneath, to open a coalesced block.
4. `BlockingChannel._impl`: the asynchronous `pika.channel.Channel` under the blocking
   one, put in confirm mode with our own callback so a batch is pipelined.

`check_pika_internals()` runs at `PikaPublisher.connect()` (and before every new
connection): if a pika release drops one of them, publishing fails with a
`PublishError` that names pika's version, instead of an `AttributeError` crash loop.
pyproject pins pika to the minor version these were tested with.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import pika
import pika.channel
import pika.connection
from pika.adapters.blocking_connection import BlockingChannel, BlockingConnection
from pika.adapters.select_connection import SelectConnection

from game_scheduler.messaging.errors import PublishError

TESTED_PIKA = "1.4"  # the minor version pyproject pins


class CoalescingConnection(SelectConnection):
    """pika's connection, but the frames of a whole batch leave in one socket write.

    pika hands each frame (three per message) to the socket separately: 1,500 `send()`
    calls for a batch of 500, which cost more CPU than everything else in the daemon.
    """

    _held: list[bytes] | None = None

    def _output_marshaled_frames(self, marshaled_frames: Sequence[bytes]) -> None:
        if self._held is None:
            super()._output_marshaled_frames(marshaled_frames)  # type: ignore[misc]  # stubs omit it
        else:
            self._held.extend(marshaled_frames)

    @contextmanager
    def coalesced(self) -> Iterator[None]:
        """Hold every frame written inside the block, then write them all at once."""
        self._held = []
        try:
            yield
        finally:
            held, self._held = self._held, None
            if held:
                super()._output_marshaled_frames([b"".join(held)])  # type: ignore[misc]  # as above


def _unsupported(what: str) -> PublishError:
    return PublishError(
        f"pika {pika.__version__} has no {what}, which the publisher relies on "
        f"(tested with pika {TESTED_PIKA}.x; see docs/messaging.md)"
    )


def check_pika_internals() -> None:
    """Raise `PublishError` naming pika's version if internals 1 or 2 are missing."""
    if not callable(getattr(pika.connection.Connection, "_output_marshaled_frames", None)):
        raise _unsupported("Connection._output_marshaled_frames")
    if "_impl_class" not in inspect.signature(BlockingConnection.__init__).parameters:
        raise _unsupported("BlockingConnection(_impl_class=...)")


def open_coalescing_connection(parameters: pika.connection.Parameters) -> BlockingConnection:
    """A `BlockingConnection` whose connection underneath is a `CoalescingConnection`."""
    check_pika_internals()
    # The stubs type `_impl_class` as an instance where pika takes the class.
    return BlockingConnection(parameters, _impl_class=CoalescingConnection)  # type: ignore[arg-type]


def coalescing_impl(connection: BlockingConnection) -> CoalescingConnection:
    """The `CoalescingConnection` under a connection from `open_coalescing_connection`."""
    impl = getattr(connection, "_impl", None)
    if not isinstance(impl, CoalescingConnection):
        raise _unsupported("BlockingConnection._impl")
    return impl


def async_channel(blocking_channel: BlockingChannel) -> pika.channel.Channel:
    """The asynchronous channel under a blocking one."""
    channel = getattr(blocking_channel, "_impl", None)
    if not isinstance(channel, pika.channel.Channel):
        raise _unsupported("BlockingChannel._impl")
    return channel
