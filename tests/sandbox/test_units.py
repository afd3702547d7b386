"""Pure pieces of the sandbox: snowflakes, buckets, fault parsing, validation."""

from __future__ import annotations

import pytest

from game_scheduler.bot.discord_endpoint import gateway_for
from game_scheduler.sandbox.errors import DiscordError
from game_scheduler.sandbox.faults import FaultTable, InvalidFaultError, parse_fault
from game_scheduler.sandbox.ratelimits import Bucket
from game_scheduler.sandbox.snowflakes import SnowflakeGenerator, snowflake_time_ms
from game_scheduler.sandbox.validation import validate_message_body


def test_snowflakes_carry_their_time_and_grow_within_a_millisecond() -> None:
    generator = SnowflakeGenerator(clock_ms=lambda: 1_700_000_000_000)
    ids = [generator.next() for _ in range(5000)]
    assert ids == sorted(set(ids))
    assert snowflake_time_ms(ids[0]) == 1_700_000_000_000


def test_bucket_counts_a_fixed_window() -> None:
    bucket = Bucket(bucket_hash="h", limit=2, window=5.0)
    assert bucket.try_acquire(0.0) is None
    assert bucket.try_acquire(1.0) is None
    assert bucket.try_acquire(2.0) == pytest.approx(3.0)
    assert bucket.headers(2.0, 100.0)["X-RateLimit-Remaining"] == "0"
    assert bucket.try_acquire(5.0) is None


def test_faults_match_method_and_glob_and_run_out() -> None:
    table = FaultTable()
    table.add(parse_fault({"route": "PATCH /channels/*/messages/*", "status": 429, "count": 2}))
    assert table.take("GET", "/channels/1/messages/2") is None
    assert table.take("PATCH", "/channels/1/messages/2") is not None
    assert table.take("PATCH", "/channels/1/messages/3") is not None
    assert table.take("PATCH", "/channels/1/messages/2") is None


@pytest.mark.parametrize(
    "body",
    [{"route": "nonsense", "status": 500}, {"route": "GET /x", "status": 200}, {"route": "GET /x"}],
)
def test_bad_faults_are_refused(body: dict[str, object]) -> None:
    with pytest.raises(InvalidFaultError):
        parse_fault(body)


def test_empty_message_and_missing_field_value() -> None:
    with pytest.raises(DiscordError) as empty:
        validate_message_body({"content": ""}, creating=True)
    assert empty.value.code == 50006
    with pytest.raises(DiscordError) as field:
        validate_message_body({"embeds": [{"fields": [{"name": "n", "value": ""}]}]}, creating=True)
    assert field.value.errors == {
        "embeds": {
            "0": {
                "fields": {
                    "0": {
                        "value": {
                            "_errors": [
                                {"code": "BASE_TYPE_REQUIRED", "message": "This field is required"}
                            ]
                        }
                    }
                }
            }
        }
    }
    validate_message_body({"content": ""}, creating=False)


def test_gateway_url_follows_the_rest_base() -> None:
    assert str(gateway_for("http://127.0.0.1:8001/api/v10")) == "ws://127.0.0.1:8001/gateway"
    assert str(gateway_for("https://discord.com/api/v10/")) == "wss://gateway.discord.gg/"
