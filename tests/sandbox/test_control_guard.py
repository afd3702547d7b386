"""No web page can press the sandbox's buttons through a developer's browser."""

from __future__ import annotations

import pytest

from tests.fixtures.sandbox import SandboxHandle

FAULT = {"route": "PATCH /channels/*/messages/*", "status": 500, "count": 1}


@pytest.mark.parametrize("path", ["/sandbox/reset", "/sandbox/faults", "/sandbox/click"])
async def test_a_control_request_from_a_foreign_origin_is_refused(
    discord_sandbox: SandboxHandle, path: str
) -> None:
    url = f"{discord_sandbox.url}{path}"
    headers = {"Origin": "https://evil.example"}
    async with discord_sandbox.session.post(url, json=FAULT, headers=headers) as response:
        assert response.status == 403
        assert "https://evil.example" in (await response.json())["error"]
    assert (await discord_sandbox.state())["faults"] == []


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
async def test_a_control_request_that_is_not_json_is_refused(
    discord_sandbox: SandboxHandle, content_type: str
) -> None:
    # What an HTML form or a no-cors fetch on another site can send without a preflight.
    url = f"{discord_sandbox.url}/sandbox/faults"
    async with discord_sandbox.session.post(
        url,
        data=b'{"route": "PATCH /channels/*/messages/*", "status": 500}',
        headers={"Content-Type": content_type},
    ) as response:
        assert response.status == 415
    assert (await discord_sandbox.state())["faults"] == []


async def test_the_sandbox_page_itself_and_scripts_may_control_it(
    discord_sandbox: SandboxHandle,
) -> None:
    url = f"{discord_sandbox.url}/sandbox/faults"
    own = {"Origin": discord_sandbox.url}
    async with discord_sandbox.session.post(url, json=FAULT, headers=own) as response:
        assert response.status == 201
    async with discord_sandbox.session.post(url, json=FAULT) as response:  # no Origin: a script
        assert response.status == 201
    assert len((await discord_sandbox.state())["faults"]) == 2
    async with discord_sandbox.session.get(f"{discord_sandbox.url}/sandbox/state") as response:
        assert response.status == 200  # reading needs no JSON body
