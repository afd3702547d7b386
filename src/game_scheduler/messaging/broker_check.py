"""Can the broker be reached: open and close one AMQP connection, for readiness checks."""

from __future__ import annotations

import pika


def check_broker(rabbitmq_url: str, timeout: float) -> None:
    """Open and close an AMQP connection (TCP, handshake, login); raises when that fails.

    `timeout` (seconds) bounds each step, so a hung broker fails the check instead of
    stalling it.
    """
    parameters = pika.URLParameters(rabbitmq_url)
    parameters.socket_timeout = timeout
    parameters.stack_timeout = timeout
    parameters.blocked_connection_timeout = timeout
    parameters.connection_attempts = 1
    parameters.retry_delay = 0
    connection = pika.BlockingConnection(parameters)
    connection.close()
