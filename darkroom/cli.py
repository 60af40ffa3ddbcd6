"""The `darkroom` command: serve, worker, migrate, generate; operator commands
for users, credits and tokens are in darkroom/admin.py."""

import asyncio
import base64
import sys
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.progress import Progress

from core.migrate import upgrade_database
from darkroom.admin import credits_app, token_app, user_app
from darkroom.console import err, out, settings_or_exit, tracing_or_exit
from darkroom.console_link import console_link, login_link
from darkroom.database import database_or_exit
from darkroom.first_start import (
    LOCAL_CREDITS,
    LOCAL_EMAIL,
    bind_or_exit,
    local_access,
    prepare_embedded,
)
from darkroom.gallery import gallery_app
from darkroom.logs import log_to_stderr, quiet_known_notices
from darkroom.search_commands import search_app, search_or_exit
from darkroom.status import status
from darkroom_client import connect
from darkroom_client.aio import exceptions as aio_errors
from darkroom_client.sync import exceptions as sync_errors
from darkroom_client.sync.client import Client
from darkroom_client.sync.enums import JobUpdateType
from darkroom_client.sync.input_types import GenerationCreateInput

app = typer.Typer(
    help="Darkroom: a GraphQL API for AI image generation.", no_args_is_help=True
)
app.add_typer(user_app, name="user")
app.add_typer(credits_app, name="credits")
app.add_typer(token_app, name="token")
app.add_typer(search_app, name="search")
app.add_typer(gallery_app, name="gallery")
app.command()(status)
app.command("console-link")(console_link)

SOURCE = "CLI"  # recorded on the jobs `darkroom generate` submits


@app.callback()
def setup() -> None:
    """Darkroom: a GraphQL API for AI image generation."""
    quiet_known_notices()


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
) -> None:
    """Start the API (GraphiQL at /graphql); the embedded default sets itself up."""
    import uvicorn

    from darkroom.services import build_app, freeze_start_up_objects
    from darkroom.serving import FINAL_REQUESTS_SECONDS, DrainingServer

    settings = settings_or_exit()
    tracing_or_exit("darkroom-api")  # before the app is built: it adds the HTTP spans
    if "public_base_url" not in settings.model_fields_set:
        # Links must point where this server really listens.
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        settings = settings.model_copy(
            update={"public_base_url": f"http://{shown}:{port}"}
        )
    sock = bind_or_exit(host, port)
    try:
        with database_or_exit(settings, err):
            if settings.is_embedded:
                prepare_embedded(settings)
            access = asyncio.run(local_access(settings))
            search_or_exit(settings, can_export=not settings.redis_url)
    except BaseException:
        sock.close()
        raise
    url = f"http://{host}:{port}/graphql"
    if access.secret:
        out.print(
            f"Created the local account {LOCAL_EMAIL} with {LOCAL_CREDITS} credits."
        )
        out.print(f"GraphiQL: {url}")
        out.print(
            "Its API token (shown once; send it as `Authorization: Bearer <token>`):"
        )
        print(access.secret, flush=True)
    else:
        out.print(f"GraphiQL: {url}")
    if access.login_code:
        out.print("Console sign-in link (works once, for 15 minutes):")
        print(login_link(settings.public_base_url, access.login_code), flush=True)
    if access.token_command:
        out.print(
            f"No token of {LOCAL_EMAIL} has been used yet; if you no longer have "
            f"the one printed on the first start, make another:\n  {access.token_command}",
            soft_wrap=True,
        )
    log_to_stderr(settings.log_format)
    app = build_app(settings, standalone=True)
    freeze_start_up_objects()
    # log_config=None: uvicorn's lines go through our handler, in our format;
    # the access lines are the app's own (api/request_ids.py), with request ids.
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        # After the drain, what in-flight HTTP requests may still take (they ran
        # beside it all along).
        timeout_graceful_shutdown=FINAL_REQUESTS_SECONDS,
    )
    DrainingServer(config, app.state.drain).run(sockets=[sock])


@app.command()
def migrate() -> None:
    """Bring the database to the newest schema (PostgreSQL or SQLite)."""
    settings = settings_or_exit()
    if settings.resolved_database_url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    with database_or_exit(settings, err):
        upgrade_database(settings.resolved_database_url)
    out.print("database is up to date")


@app.command()
def worker(
    burst: Annotated[
        bool, typer.Option(help="Exit once the queue is empty (tests, batch runs).")
    ] = False,
) -> None:
    """Run a GPU worker: takes jobs from Redis (needs DARKROOM_REDIS_URL)."""
    from darkroom.services import run_worker

    settings = settings_or_exit()
    if not settings.redis_url:
        err.print(
            "[red]configuration error:[/red] DARKROOM_REDIS_URL is not set; without "
            "Redis, `darkroom serve` runs jobs in-process and needs no worker"
        )
        raise typer.Exit(2)
    tracing_or_exit("darkroom-worker")  # a refusal before logging is set up
    with database_or_exit(settings, err):
        search_or_exit(settings, can_export=True)
    log_to_stderr(settings.log_format)
    run_worker(settings, burst=burst)


def job_uuid(global_id: str) -> str:
    """The plain job id inside a Relay global id (for file names)."""
    return base64.b64decode(global_id).decode().partition(":")[2]


@app.command()
def generate(
    prompt: str,
    token: Annotated[
        str,
        typer.Option(envvar="DARKROOM_TOKEN", help="API token (or DARKROOM_TOKEN)."),
    ],
    url: Annotated[
        str | None,
        typer.Option(help="GraphQL endpoint; default PUBLIC_BASE_URL/graphql."),
    ] = None,
    width: Annotated[int | None, typer.Option(help="Width in pixels.")] = None,
    height: Annotated[int | None, typer.Option(help="Height in pixels.")] = None,
    outputs: Annotated[
        int | None,
        typer.Option("--num-outputs", "--outputs", help="Images to make, 1 to 4 (2)."),
    ] = None,
    steps: Annotated[
        int | None,
        typer.Option("--inference-steps", "--steps", help="Denoising steps."),
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="Seed; image i uses seed + i.")
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model-id", "--model", help="Catalog model id.")
    ] = None,
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder for the images.")
    ] = Path("."),
) -> None:
    """Generate images through a running server, watching the job live."""
    endpoint = url or settings_or_exit().public_base_url.rstrip("/") + "/graphql"
    request = GenerationCreateInput(
        prompt=prompt,
        num_outputs=outputs,
        width=width,
        height=height,
        inference_steps=steps,
        seed=seed,
        model_id=model,
    )
    try:
        with connect.client(endpoint, token, source=SOURCE) as api:
            created = api.generate(input=request).generation_create
            if created.job is None:
                raise RefusedError(
                    [f"{e.code.value} {e.message}" for e in created.user_errors]
                )
            job_id = created.job.id
            out.print(f"job {job_id} queued, {created.job.cost} credits")
            _follow(endpoint, token, job_id)
            _save_outputs(api, job_id, out_dir)
    except (
        sync_errors.GraphQLClientGraphQLMultiError,
        aio_errors.GraphQLClientGraphQLMultiError,
    ) as refusal:
        reasons = [
            f"{(error.extensions or {}).get('code', '')} {error.message}"
            for error in refusal.errors
        ]
        err.print(f"[red]refused:[/red] {'; '.join(reasons)}")
        raise typer.Exit(1) from None
    except RefusedError as refusal:
        err.print(f"[red]refused:[/red] {refusal}")
        raise typer.Exit(1) from None


def _save_outputs(api: Client, job_id: str, out_dir: Path) -> None:
    """Download the finished job's images into out_dir."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for output in api.job(id=job_id).job.outputs:
        path = out_dir / f"{job_uuid(job_id)}-{output.index}.png"
        image = httpx.get(output.image_url, timeout=60)
        image.raise_for_status()
        path.write_bytes(image.content)
        out.print(f"saved {path} (seed {output.seed})")


class RefusedError(Exception):
    """The server turned the job down, or it failed; one reason per item."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))


def _follow(endpoint: str, token: str, job_id: str) -> None:
    """Show the job's place and steps as a progress bar until it ends."""
    with Progress(console=out) as progress:
        task = progress.add_task("queued", total=None)
        for update in connect.watch_job(endpoint, token, job_id, source=SOURCE):
            if update.type_ == JobUpdateType.PROGRESS:
                progress.update(
                    task,
                    description="denoising",
                    completed=update.step or 0,
                    total=update.total_steps,
                )
            elif update.type_ == JobUpdateType.QUEUED:
                place = update.queue_position
                progress.update(task, description=f"queued (#{place})")
            elif update.type_ == JobUpdateType.FAILED and update.error is not None:
                raise RefusedError(
                    [f"{update.error.code.value} {update.error.message}"]
                )


if __name__ == "__main__":
    sys.exit(app())
