"""The gallery's file route: /gallery/images/{id}.{format}, for anyone, no signature.

The link is stable, so pages and feeds can embed it; what it serves is decided
per request from the output's row by the gallery rule (core/gallery.py), so it
answers 404 as soon as the image is deleted, made private or rejected. Caches
may keep a copy for a minute at most, so a removal is not outlived for long.
"""

import uuid

from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response

from core.gallery import get_gallery_images
from core.storage import LocalStorage
from resolvers.context import Services

MAX_AGE_SECONDS = 60
_GONE = {"Cache-Control": "no-store"}


async def gallery_image(services: Services, request: Request) -> Response:
    """A gallery image's file: streamed from local storage, or a redirect to a
    presigned URL on S3; 404 for anything not in the gallery."""
    stem, _, extension = request.path_params["name"].rpartition(".")
    try:
        output_id = uuid.UUID(stem)
    except ValueError:
        return Response(status_code=404, headers=_GONE)
    async with services.db.reading() as session:
        output = (await get_gallery_images(session, ids=[output_id])).get(output_id)
    if output is None or output.format.lower() != extension.lower():
        return Response(status_code=404, headers=_GONE)
    storage = services.storage
    if isinstance(storage, LocalStorage):
        path = storage.path_for(output.storage_key)
        if not path.is_file():
            return Response(status_code=404, headers=_GONE)
        return FileResponse(
            path,
            media_type=await storage.content_type(output.storage_key),
            headers={"Cache-Control": f"public, max-age={MAX_AGE_SECONDS}"},
        )
    # The presigned URL lives for the storage's signed-link lifetime; the redirect
    # itself is not cached, so each view asks here again whether it may.
    url = await storage.url(output.storage_key, public=False)
    return RedirectResponse(url, status_code=307, headers={"Cache-Control": "no-cache"})
