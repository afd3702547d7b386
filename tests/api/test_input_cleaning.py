"""Input the API refuses or cleans: Unix times, invisible titles, bidi overrides, deep JSON."""

from __future__ import annotations

import httpx
import pytest

from game_scheduler.api.json_depth import MAX_JSON_DEPTH
from tests.api.conftest import START, create, game_body

pytestmark = pytest.mark.integration


def _error(response: httpx.Response) -> dict[str, object]:
    assert response.status_code == 422, response.text
    error: dict[str, object] = response.json()["error"]
    return error


@pytest.mark.parametrize("unix_time", [int(START.timestamp()), str(int(START.timestamp())), 1.5e9])
async def test_a_unix_time_as_scheduled_at_is_refused_with_the_reason(
    client: httpx.AsyncClient, unix_time: object
) -> None:
    error = _error(await client.post("/api/v1/games", json=game_body(scheduled_at=unix_time)))
    assert error["field"] == "scheduled_at"
    assert "Unix times are refused" in str(error["message"])


async def test_a_unix_time_in_an_edit_is_refused(client: httpx.AsyncClient) -> None:
    game = await create(client)
    response = await client.patch(
        f"/api/v1/games/{game['id']}", json={"scheduled_at": int(START.timestamp())}
    )
    assert _error(response)["field"] == "scheduled_at"


@pytest.mark.parametrize(
    "title",
    ["\u200b", "\u200b\u200b \u2060", "\ufeff", "\u202e\u200b", "\u3164", "\u200d\u200c"],
    ids=["zwsp", "zwsp-and-word-joiner", "bom", "override-and-zwsp", "hangul-filler", "joiners"],
)
async def test_a_title_with_nothing_visible_is_refused(
    client: httpx.AsyncClient, title: str
) -> None:
    error = _error(await client.post("/api/v1/games", json=game_body(title=title)))
    assert error["field"] == "title"
    assert "visible character" in str(error["message"])


async def test_bidi_overrides_are_removed_from_titles_texts_and_names(
    client: httpx.AsyncClient,
) -> None:
    game = await create(
        client,
        title="Raid \u202enight\u202c \u2066x\u2069",
        description="Bring \u202dsnacks\u202c",
        where="\u2067Voice\u2069",
        signup_instructions="\u202aPress\u202c Join",
    )
    assert game["title"] == "Raid night x"
    assert game["description"] == "Bring snacks"
    assert game["where"] == "Voice"
    assert game["signup_instructions"] == "Press Join"
    edited = await client.patch(f"/api/v1/games/{game['id']}", json={"title": "\u202eEvil"})
    assert edited.json()["title"] == "Evil"
    joined = await client.post(
        f"/api/v1/games/{game['id']}/participants",
        json={"user_id": "444444444444444444", "display_name": "\u202eAda\u202c"},
    )
    assert joined.status_code == 201, joined.text
    assert joined.json()["participant"]["display_name"] == "Ada"


async def test_emoji_sequences_keep_their_joiners(client: httpx.AsyncClient) -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    game = await create(client, title=f"{family} night")
    assert game["title"] == f"{family} night"


async def test_json_nested_too_deep_gets_its_own_message(client: httpx.AsyncClient) -> None:
    depth = MAX_JSON_DEPTH + 1
    body = '{"title": ' + "[" * depth + "]" * depth + "}"
    response = await client.post(
        "/api/v1/games", content=body, headers={"Content-Type": "application/json"}
    )
    message = str(_error(response)["message"])
    assert f"nested more than {MAX_JSON_DEPTH} levels" in message
    assert "UTF-8" not in message


async def test_very_deep_json_is_refused_the_same_way(client: httpx.AsyncClient) -> None:
    body = "[" * 100_000 + "]" * 100_000
    response = await client.post(
        "/api/v1/games", content=body, headers={"Content-Type": "application/json"}
    )
    assert f"nested more than {MAX_JSON_DEPTH} levels" in str(_error(response)["message"])


async def test_brackets_inside_strings_do_not_count_as_nesting(client: httpx.AsyncClient) -> None:
    game = await create(client, title="[[[[" * 40, description='"{{{{' * 40)
    assert game["title"] == "[[[[" * 40


async def test_deep_json_without_a_content_type_is_refused_too(client: httpx.AsyncClient) -> None:
    body = "[" * 5000 + "]" * 5000
    response = await client.post("/api/v1/games", content=body)
    assert f"nested more than {MAX_JSON_DEPTH} levels" in str(_error(response)["message"])
