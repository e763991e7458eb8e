"""`/viewer`: the session viewer's static page (plain HTML, CSS and JS, no build step),
shipped as package data in ``audit_trail/viewer``.

The page reads its viewer token from the URL fragment or from the embedding page
(postMessage) and calls the JSON API with ``Authorization: Bearer``: the fragment never
reaches the server, so no token appears in an access log. The page holds no rules; what
a viewer may see is decided by the API.
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI
from starlette.responses import Response

from audit_trail.api import problems

_ASSETS = {
    "viewer.js": "text/javascript; charset=utf-8",
    "search.js": "text/javascript; charset=utf-8",
    "viewer.css": "text/css; charset=utf-8",
}
# Scripts and styles only from this server; data only from this server's API. The page
# is meant to be framed by the platform's own pages, so framing is not forbidden here.
_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self' data:; base-uri 'none'; form-action 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}


def _asset(name: str) -> bytes:
    return files("audit_trail.viewer").joinpath(name).read_bytes()


def install(app: FastAPI) -> None:
    @app.get("/viewer", tags=["viewer"], include_in_schema=False)
    def viewer() -> Response:
        return Response(_asset("index.html"), media_type="text/html", headers=_HEADERS)

    @app.get("/viewer/{name}", tags=["viewer"], include_in_schema=False)
    def viewer_asset(name: str) -> Response:
        media = _ASSETS.get(name)
        if media is None:  # a fixed list: no path from the request reaches the disk
            return problems.problem(404, f"no viewer file {name[:80]!r}")
        return Response(_asset(name), media_type=media, headers=_HEADERS)
