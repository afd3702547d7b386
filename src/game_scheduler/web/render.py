"""Jinja2 rendering: one environment, whole pages, and a page's live parts alone.

Autoescape is on for every template; nothing a person typed is ever marked safe. A page's
`live` block is what the browser's small script fetches (`?live=1`) and swaps in, so the
fragment and the page can never disagree about how a game looks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
LIVE_BLOCK = "live"


def make_environment() -> Environment:
    """The dashboard's templates, escaping everything by default."""
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"], default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


class Renderer:
    """Renders the dashboard's templates into responses."""

    def __init__(self) -> None:
        self._environment = make_environment()

    def page(
        self, request: Request, name: str, status_code: int = 200, **context: Any
    ) -> HTMLResponse:
        """A whole page; only its live parts when the request asks for them."""
        template = self._environment.get_template(name)
        values = {"request": request, "viewer": None, "flash": None, **context}
        if request.query_params.get("live") == "1" and LIVE_BLOCK in template.blocks:
            block = template.blocks[LIVE_BLOCK]
            html = "".join(block(template.new_context(values)))
            return HTMLResponse(f"<div>{html}</div>", status_code=status_code)
        headers = {"Cache-Control": "no-store"}
        return HTMLResponse(template.render(values), status_code=status_code, headers=headers)
