"""Fixtures shared by every test package live in tests/fixtures/, one module per service."""

pytest_plugins = [
    "tests.fixtures.browser",
    "tests.fixtures.database",
    "tests.fixtures.rabbitmq",
    "tests.fixtures.sandbox",
    "tests.fixtures.system",
]
