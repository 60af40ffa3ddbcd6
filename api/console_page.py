"""The console's pages: one HTML shell for every /console page, its static files
(our ES modules and the vendored Preact, htm and uPlot), and the plain HTML pages
of sign-in.

The shell carries no script of its own, only a module tag, so the pages run
under `default-src 'self'` with no inline script. The browser code talks to the
public GraphQL API at /graphql and nothing else (api/console/*.js).
"""

import functools
import html
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from api.assets import Asset, asset_response, find_assets
from api.console_auth import COOKIE
from core.sessions import authenticate_session, csrf_token_for
from resolvers.context import Services

ASSETS = Path(__file__).parent / "console"
STATIC_PATH = "/console/static"
# Client-side routes: each serves the shell, whose router shows the page.
PAGES = ("", "account", "usage", "tokens", "images", "generate", "webhooks", "gallery")

# Same origin only; images also from data: (live previews), blob: (downloads)
# and the origins of S3 storage's image URLs (`{images}`). No inline script or
# style element anywhere: Preact and uPlot set styles through the DOM, which
# style-src does not govern.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data: blob:{images}",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY.format(images=""),
    "X-Content-Type-Options": "nosniff",
    # Not no-referrer: under it a form's POST says `Origin: null`, and sign-in
    # checks the Origin. same-origin still tells other sites nothing.
    "Referrer-Policy": "same-origin",
    # The shell names the session's CSRF token: never kept by a cache.
    "Cache-Control": "no-store",
}


@functools.cache
def assets() -> dict[str, Asset]:
    """The servable files by their path under api/console/ (never a free path)."""
    return find_assets(
        (path.relative_to(ASSETS).as_posix(), path)
        for path in sorted(ASSETS.rglob("*"))
    )


def html_page(
    title: str,
    body: str,
    *,
    status: int = 200,
    head: str = "",
    image_origins: tuple[str, ...] = (),
) -> Response:
    """A console HTML page under the console's CSP, which lets images come from
    `image_origins` too; `body` is already escaped."""
    css = f"{STATIC_PATH}/console.css?v={assets()['console.css'].digest}"
    document = (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8" />\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1" />\n'
        f"<title>{html.escape(title)} - Darkroom</title>\n"
        # No favicon to fetch (and no 404 for one).
        '<link rel="icon" href="data:," />\n'
        f'<link rel="stylesheet" href="{css}" />\n{head}</head>\n'
        f"<body>\n{body}\n</body>\n</html>\n"
    )
    images = "".join(f" {origin}" for origin in image_origins)
    headers = {
        **PAGE_HEADERS,
        "Content-Security-Policy": CONTENT_SECURITY_POLICY.format(images=images),
    }
    return HTMLResponse(document, status_code=status, headers=headers)


async def console_page(services: Services, request: Request) -> Response:
    """The shell of every console page, with the session's CSRF token when the
    cookie signs someone in (a navigation: read-only, so no origin check)."""
    if request.path_params.get("page", "") not in PAGES:
        return html_page("Not found", "<main><h1>No such page</h1></main>", status=404)
    secret = request.cookies.get(COOKIE)
    caller = None
    if secret:
        async with services.db.session() as session:
            caller = await authenticate_session(session, secret=secret)
    meta = ""
    if caller is not None and secret is not None:
        meta = f'<meta name="darkroom-csrf" content="{csrf_token_for(secret)}" />\n'
    app = f"{STATIC_PATH}/app.js?v={assets()['app.js'].digest}"
    head = meta + f'<script type="module" src="{app}"></script>\n'
    body = '<div id="app"><p class="loading">Loading the console...</p></div>'
    return html_page(
        "Console",
        body,
        head=head,
        image_origins=services.settings.storage_image_origins,
    )


def static_file(request: Request) -> Response:
    """One of the console's files by name, gzipped when the client accepts it.

    ES modules import each other by plain relative URLs, so every file is
    revalidated (no-cache plus an ETag) rather than kept for a year.
    """
    return asset_response(
        request, assets().get(request.path_params["name"]), "no-cache"
    )
