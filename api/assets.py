"""Static files served from the package (GraphiQL's and the console's), by name.

A page's files are found once per process and looked up by name, never by a
path from the request. Each carries a digest: pages put it in their URLs (?v=)
and it is the file's ETag.
"""

import functools
import gzip
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

# Only these kinds are served; anything else (licences, templates) stays
# unserved. The charset matters: the bundles contain non-ASCII literals.
CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}


@dataclass(frozen=True)
class Asset:
    """One file a page loads."""

    path: Path
    content_type: str
    digest: str


def find_assets(files: Iterable[tuple[str, Path]]) -> dict[str, Asset]:
    """The servable files among (name, path) pairs, by name."""
    found: dict[str, Asset] = {}
    for name, path in files:
        content_type = CONTENT_TYPES.get(path.suffix)
        if content_type and path.is_file():
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
            found[name] = Asset(path, content_type, digest)
    return found


@functools.cache
def _compressed(path: Path) -> bytes:
    """The gzipped file, built once per process (graphiql.min.js 1 MB -> 0.3 MB)."""
    return gzip.compress(path.read_bytes(), compresslevel=9, mtime=0)


def asset_response(request: Request, asset: Asset | None, cache: str) -> Response:
    """The file, gzipped when the client accepts it, or 304 when its ETag matches.

    Called from plain (sync) endpoints, so Starlette runs it in its thread
    pool: the first request for a file reads and compresses it off the loop.
    """
    if asset is None:
        return Response("not found", status_code=404, media_type="text/plain")
    headers = {
        "Cache-Control": cache,
        # Weak: the gzipped and plain bodies are the same file, not the same bytes.
        "ETag": f'W/"{asset.digest}"',
        "X-Content-Type-Options": "nosniff",
        "Vary": "Accept-Encoding",
    }
    if headers["ETag"] in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    body = asset.path.read_bytes()
    if "gzip" in request.headers.get("accept-encoding", ""):
        body = _compressed(asset.path)
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type=asset.content_type, headers=headers)
