"""A consumer of `bot_events` in a process of its own, noting when each message arrived.

The benchmarks time the scheduler from outside: had the consumer shared the benchmark's
process, its pika loop would compete with the thread that inserts rows and takes the
timings. Run as a script, it consumes and writes `<message_id> <unix time>` lines to
stdout in small batches; `Arrivals` starts it and reads those lines on a thread.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from datetime import UTC, datetime

FLUSH_EVERY = 0.005  # seconds: arrival lines are written at most this long after arriving


class Arrivals:
    """Starts the consumer process; `arrived` maps message_id to its arrival (UTC)."""

    def __init__(self, rabbitmq_url: str) -> None:
        self.arrived: dict[str, datetime] = {}
        self._process = subprocess.Popen(
            [sys.executable, __file__, rabbitmq_url],
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        assert self._process.stdout is not None
        if self._process.stdout.readline().strip() != "ready":
            raise RuntimeError("the arrivals consumer did not start")
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            message_id, at = line.split()
            self.arrived.setdefault(message_id, datetime.fromtimestamp(float(at), UTC))

    def wait_for(self, ids: set[str], timeout: float) -> None:
        """Block until every id has arrived, or `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while not ids <= self.arrived.keys() and time.monotonic() < deadline:
            time.sleep(0.01)

    def close(self) -> None:
        """Stop the consumer process."""
        self._process.terminate()
        self._process.wait(10)


def consume(rabbitmq_url: str) -> None:
    """Consume the production queue, printing arrivals; runs until terminated."""
    import pika

    from game_scheduler.messaging.topology import DEFAULT_TOPOLOGY, declare_blocking

    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq_url))
    channel = connection.channel()
    declare_blocking(channel, DEFAULT_TOPOLOGY)
    channel.basic_qos(prefetch_count=1000)
    pending: list[str] = []

    def on_message(
        _ch: object, _method: object, properties: pika.BasicProperties, _body: bytes
    ) -> None:
        pending.append(f"{properties.message_id} {time.time():.6f}\n")

    channel.basic_consume(DEFAULT_TOPOLOGY.queue, on_message, auto_ack=True)
    print("ready", flush=True)
    while True:
        connection.process_data_events(time_limit=FLUSH_EVERY)
        if pending:
            sys.stdout.write("".join(pending))
            sys.stdout.flush()
            pending.clear()


if __name__ == "__main__":
    consume(sys.argv[1])
