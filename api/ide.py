"""GraphiQL served from the package: the page at /graphql and its static files.

The browser builds live in api/graphiql/vendor/ (scripts/fetch_graphiql.py
fetches and pins them), so the page loads nothing from a CDN and works offline.
"""

import functools
import gzip
import hashlib
import json
import secrets
import string
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

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

# Only files the page may load; anything else (licences, the template) stays
# unserved. The charset matters: the bundles contain non-ASCII literals.
CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}

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


@dataclass(frozen=True)
class Asset:
    """One file the page loads."""

    path: Path
    content_type: str
    digest: str


@functools.cache
def assets() -> dict[str, Asset]:
    """The servable files by name: the vendored builds and our own start-up."""
    found: dict[str, Asset] = {}
    for path in [*sorted((ASSETS / "vendor").iterdir()), *sorted(ASSETS.iterdir())]:
        content_type = CONTENT_TYPES.get(path.suffix)
        if content_type and path.is_file():
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
            found[path.name] = Asset(path, content_type, digest)
    return found


@functools.cache
def _compressed(name: str) -> bytes:
    """The gzipped file, built once per process (graphiql.min.js 1 MB -> 0.3 MB)."""
    return gzip.compress(assets()[name].path.read_bytes(), compresslevel=9, mtime=0)


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
    if asset is None:
        return Response("not found", status_code=404, media_type="text/plain")
    current = request.query_params.get("v") == asset.digest
    headers = {
        "Cache-Control": IMMUTABLE if current else "no-cache",
        # Weak: the gzipped and plain bodies are the same file, not the same bytes.
        "ETag": f'W/"{asset.digest}"',
        "X-Content-Type-Options": "nosniff",
        "Vary": "Accept-Encoding",
    }
    if headers["ETag"] in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    body = asset.path.read_bytes()
    if "gzip" in request.headers.get("accept-encoding", ""):
        body = _compressed(asset.path.name)
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type=asset.content_type, headers=headers)
