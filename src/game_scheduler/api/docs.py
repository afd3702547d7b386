"""`/docs`: Swagger UI served from the installed swagger-ui-bundle package, not a CDN.

So the interactive documentation works on a machine without internet access, and no
third-party script runs on the API's origin.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]  # ships no types

DOCS_PATH = "/docs"
ASSETS_PATH = "/docs/assets"


def install_offline_docs(app: FastAPI) -> None:
    """Serve Swagger UI at /docs with its scripts, styles and icon from this process."""
    app.mount(ASSETS_PATH, StaticFiles(directory=swagger_ui_path), name="swagger-ui-assets")

    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} - API documentation",
            swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_PATH}/favicon-32x32.png",
        )

    app.add_api_route(DOCS_PATH, swagger_ui, include_in_schema=False, methods=["GET"])
