"""`install_dashboard`: the dashboard's routes, static files and error pages on the API app."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from game_scheduler.api.deps import ApiContext
from game_scheduler.web import actions, pages, series_pages, settings_page, templates_page
from game_scheduler.web.deps import PageError, SignInNeeded, ViewerSource, WebContext
from game_scheduler.web.directory import RestDirectory, bot_token_of
from game_scheduler.web.people import viewer_from_session
from game_scheduler.web.render import STATIC, Renderer
from game_scheduler.web.viewer import Directory


def install_dashboard(
    app: FastAPI,
    *,
    viewer_of: ViewerSource | None = None,
    directory: Directory | None = None,
) -> None:
    """Serve the dashboard at `/` from the API app (whose `state.context` is set)."""
    context: ApiContext = app.state.context
    settings = context.settings
    app.state.web = WebContext(
        api=context,
        renderer=Renderer(),
        directory=directory or RestDirectory(settings.discord_api_base, bot_token_of(settings)),
        viewer_of=viewer_of or viewer_from_session,
    )

    async def on_page_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PageError)
        web: WebContext = request.app.state.web
        viewer = web.viewer_of(request)
        return web.renderer.page(
            request,
            "error.html",
            status_code=exc.status,
            viewer=viewer,
            heading=exc.heading,
            message=exc.message,
        )

    async def on_sign_in_needed(request: Request, exc: Exception) -> Response:
        if request.method != "GET":
            return await on_page_error(
                request,
                PageError(401, "Please sign in", "Sign in first; nothing was changed."),
            )
        target = quote(request.url.path, safe="/")
        return RedirectResponse(f"/auth/login?next={target}", status_code=303)

    app.add_exception_handler(PageError, on_page_error)
    app.add_exception_handler(SignInNeeded, on_sign_in_needed)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(pages.router)
    app.include_router(actions.router)
    app.include_router(settings_page.router)
    app.include_router(series_pages.router)
    app.include_router(templates_page.router)
