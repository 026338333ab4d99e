"""The web page (GET /) and the interactive API documentation (GET /docs).

Both are files served by the app itself: the page's own HTML, JavaScript and CSS from
`service/web/`, and Swagger UI's bundle from the `flask-swagger-ui` package on PyPI (its files
only, not its blueprint, whose page has an inline script). Nothing comes from the internet, and
a Content-Security-Policy lets the pages run only the app's own scripts and styles and talk only
to the app.
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from flask import Blueprint, Response

from service.web_assets import WEB_ASSETS

bp = Blueprint("web", __name__)

PAGES = Path(__file__).parent / "web"
SWAGGER_UI = files("flask_swagger_ui") / "dist"

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
)

# Every file the pages load is a route of its own, from the fixed list in service/web_assets.py
# (URL and media type), so no request can name another file. Swagger UI's two files come from
# its package; the rest from service/web/.
FOLDERS = {"swagger-ui-bundle.js": SWAGGER_UI, "swagger-ui.css": SWAGGER_UI}


def _file(path: Traversable, mimetype: str) -> Response:
    response = Response(path.read_bytes(), mimetype=mimetype)
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response


@bp.get("/")
def page() -> Response:
    """The page: statements, CSV files and the model card, for people who don't use curl."""
    return _file(PAGES / "index.html", "text/html")


@bp.get("/docs")
def docs() -> Response:
    """Swagger UI on /openapi.json: every operation, with "Try it out" against this server."""
    return _file(PAGES / "docs.html", "text/html")


def _asset(url: str) -> Response:
    name = url.rsplit("/", 1)[1]
    response = _file(FOLDERS.get(name, PAGES) / name, WEB_ASSETS[url])
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


for _url in WEB_ASSETS:
    bp.add_url_rule(
        _url, "asset_" + _url.rsplit("/", 1)[1].replace(".", "_"), _asset, defaults={"url": _url}
    )
