"""The web dashboard: server-rendered pages served by the API process at `GET /`.

Routes parse what the browser sent, call `games/service.py`, and render Jinja2 templates
with values already prepared for people (times in the viewer's zone, labels chosen).
"""
