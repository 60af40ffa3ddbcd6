"""GraphiQL served from the package: the page at /graphql and its static files.

The browser builds live in api/graphiql/vendor/ (scripts/fetch_graphiql.py
fetches and pins them), so the page loads nothing from a CDN and works offline.
"""

import functools
import json
import secrets
import string
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from api.assets import Asset, asset_response, find_assets

ASSETS = Path(__file__).parent / "graphiql"
STATIC_PATH = "/graphiql/static"

# What the Headers tab starts with: where the token goes, not a token. Sent as
# is, it is malformed, so the server treats the caller as anonymous.
PLACEHOLDER_HEADERS = {"Authorization": "Bearer drk_..."}

# Saved operations, one tab each, in this order: examples/NAME.graphql, with
# its variables in examples/NAME.json when it has any.
EXAMPLES = ("catalog", "generate", "watch", "history")

# Load order matters: React first, then GraphiQL (which reads the React
# globals), then the explorer (which reads GraphiQL's), then our start-up.
STYLES = ("graphiql.min.css", "plugin-explorer.css", "darkroom.css")
SCRIPTS = (
    "react.production.min.js",
    "react-dom.production.min.js",
    "graphiql.min.js",
    "plugin-explorer.umd.js",
    "darkroom.js",
)

# Everything from this origin only. GraphiQL's stylesheet inlines its fonts and
# icons as data: URLs. CSP Level 3 makes 'self' match ws: and wss: to the same
# host and port, which is where subscriptions go. Its dialogs add one <style>
# element (react-remove-scroll), which carries the page's nonce.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self' 'nonce-{nonce}'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)

# A URL carries its file's digest (?v=), so a browser may keep it for a year:
# a new build has a new digest and so a new URL.
IMMUTABLE = "public, max-age=31536000, immutable"


@functools.cache
def assets() -> dict[str, Asset]:
    """The servable files by name: the vendored builds and our own start-up."""
    paths = [*sorted((ASSETS / "vendor").iterdir()), *sorted(ASSETS.iterdir())]
    return find_assets((path.name, path) for path in paths)


@functools.cache
def _template() -> string.Template:
    return string.Template((ASSETS / "page.html").read_text(encoding="utf-8"))


def tabs() -> list[dict[str, str]]:
    """The saved operations as GraphiQL tabs: query and variables."""
    found = []
    for name in EXAMPLES:
        query = (ASSETS / "examples" / f"{name}.graphql").read_text(encoding="utf-8")
        path = ASSETS / "examples" / f"{name}.json"
        variables = path.read_text(encoding="utf-8") if path.exists() else ""
        found.append({"query": query, "variables": variables})
    return found


def static_url(root_path: str, name: str) -> str:
    """Where the page loads `name` from, versioned by its digest."""
    return f"{root_path}{STATIC_PATH}/{name}?v={assets()[name].digest}"


def graphiql_page(request: Request) -> HTMLResponse:
    """The GraphiQL page: pinned local builds, our saved operations, a strict CSP."""
    root = request.scope.get("root_path", "")
    styles = "\n".join(
        f'    <link rel="stylesheet" href="{static_url(root, name)}" />'
        for name in STYLES
    )
    scripts = "\n".join(
        f'    <script src="{static_url(root, name)}"></script>' for name in SCRIPTS
    )
    nonce = secrets.token_urlsafe(16)
    config = {
        "path": request.url.path,
        "styleNonce": nonce,
        "headers": PLACEHOLDER_HEADERS,
        "tabs": tabs(),
    }
    # Inside <script>, only "</script" or "<!--" could end the block early;
    # escaping every "<" rules out both.
    data = json.dumps(config).replace("<", "\\u003c")
    html = _template().substitute(styles=styles, scripts=scripts, config=data)
    return HTMLResponse(
        html,
        headers={
            "Content-Security-Policy": CONTENT_SECURITY_POLICY.format(nonce=nonce),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            # The page names the current digests, so always revalidate it.
            "Cache-Control": "no-cache",
        },
    )


def static_file(request: Request) -> Response:
    """One of the page's files, looked up by name (never a path), gzipped when
    the client accepts it.

    A plain function, so Starlette runs it in its thread pool: the first
    request for a file reads and compresses it off the event loop.
    """
    asset = assets().get(request.path_params["name"])
    current = asset is not None and request.query_params.get("v") == asset.digest
    return asset_response(request, asset, IMMUTABLE if current else "no-cache")
