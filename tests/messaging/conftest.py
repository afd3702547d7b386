"""Until the root conftest lists `tests.fixtures.rabbitmq` in `pytest_plugins`, import it here."""

from tests.fixtures.rabbitmq import (  # noqa: F401
    rabbitmq_connection,
    rabbitmq_probe,
    rabbitmq_topology,
    rabbitmq_vhost,
    rabbitmq_vhost_url,
)
