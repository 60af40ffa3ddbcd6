"""Run by tests/clients/test_python_package.py with the fresh venv's Python, where
only darkroom-client is installed: generate, watch, upload, outputs and usage."""

import io
import os
import struct
import zlib

from darkroom_client import connect
from darkroom_client.sync.base_model import Upload
from darkroom_client.sync.enums import JobStatus, JobUpdateType
from darkroom_client.sync.input_types import GenerationCreateInput, OutputWhere


def png(width: int, height: int) -> bytes:
    """A solid RGB PNG written by hand: the light venv has no Pillow."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\xc8\x50\x28" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


url, token = os.environ["DARKROOM_URL"], os.environ["DARKROOM_TOKEN"]
tiny = GenerationCreateInput(
    prompt="a red fox", model_id="darkroom-tiny", width=64, height=64,
    inference_steps=2, num_outputs=1, seed=11,
)  # fmt: skip
with connect.client(url, token) as api:
    job = api.generate(input=tiny).generation_create.job
    assert job is not None
    updates = list(connect.watch_job(url, token, job.id))
    assert updates[-1].status is JobStatus.SUCCEEDED, updates[-1]
    seeds = [
        u.output.seed for u in updates if u.type_ is JobUpdateType.OUTPUT and u.output
    ]
    assert seeds == [11], seeds
    page = api.outputs(first=5, where=OutputWhere(job_id=job.id)).outputs
    assert [e.node.seed for e in page.edges] == [11], page
    uploaded = api.image_upload(
        file=Upload("fox.png", io.BytesIO(png(32, 24)), "image/png")
    ).image_upload
    assert uploaded.user_errors == [], uploaded.user_errors
    assert uploaded.upload is not None
    assert (uploaded.upload.width, uploaded.upload.height) == (32, 24)
    usage = api.usage(first=10).usage
    assert job.id in [e.node.job_id for e in usage.edges], usage
print("light client ok")
