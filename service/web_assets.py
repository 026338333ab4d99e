"""The files the web page and /docs load, with their media types.

The page's own list, kept apart from the API contract: service/web.py serves exactly these
(so no request can name another file) and the OpenAPI document describes them, whichever way
that document is built.
"""

from __future__ import annotations

WEB_ASSETS = {
    "/ui/app.js": "text/javascript",
    "/ui/app.css": "text/css",
    "/ui/docs.js": "text/javascript",
    "/ui/docs.css": "text/css",
    "/ui/swagger-ui-bundle.js": "text/javascript",
    "/ui/swagger-ui.css": "text/css",
}
