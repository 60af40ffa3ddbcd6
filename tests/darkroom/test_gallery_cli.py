"""`darkroom gallery review`: list pending outputs, approve and reject them."""

import asyncio
import uuid
from pathlib import Path

from core.accounts import create_user
from core.credits import FreeCreditPolicy
from core.db import Database
from core.enums import GalleryStatus, Tier
from core.gallery import author_handle
from core.settings import Settings
from darkroom.cli import app
from tests.darkroom.test_cli import data_dir, invoke, runner
from tests.resolvers.history_rows import job_row, output_row

__all__ = ["data_dir"]  # the fixture, shared with test_cli


def seed_pending(folder: Path, count: int) -> tuple[uuid.UUID, list[uuid.UUID]]:
    async def seed() -> tuple[uuid.UUID, list[uuid.UUID]]:
        settings = Settings(data_dir=folder)
        db = Database(settings.resolved_database_url)
        try:
            async with db.session() as session:
                user = await create_user(
                    session,
                    email="free@example.com",
                    tier=Tier.FREE,
                    credits=0,
                    policy=FreeCreditPolicy.from_settings(settings),
                )
                job = job_row(user.id)
                session.add(job)
                await session.flush()
                rows = [
                    output_row(
                        job, i, is_public=True, gallery_status=GalleryStatus.SUBMITTED
                    )
                    for i in range(count)
                ]
                session.add_all(rows)
                await session.flush()
                return user.id, [r.id for r in rows]
        finally:
            await db.dispose()

    return asyncio.run(seed())


def test_gallery_review_lists_approves_and_rejects(data_dir: Path) -> None:
    # given three pending outputs of a free account
    user_id, (one, two, three) = seed_pending(data_dir, 3)
    # when the operator lists the queue
    listing = invoke("gallery", "review")
    # then each is shown with its account's handle and prompt, never the email
    assert all(str(i) in listing for i in (one, two, three))
    assert author_handle(user_id) in listing
    assert "a lighthouse number 0" in listing
    assert "free@example.com" not in listing
    # when one is approved and one rejected
    changed = invoke("gallery", "review", "--approve", str(one), "--reject", str(two))
    # then both changes are printed and only the third is left
    assert f"{one}: SUBMITTED -> APPROVED" in changed
    assert f"{two}: SUBMITTED -> REJECTED" in changed
    left = invoke("gallery", "review")
    assert str(three) in left
    assert str(one) not in left
    # and --approve-all clears the queue
    assert f"{three}: SUBMITTED -> APPROVED" in invoke(
        "gallery", "review", "--approve-all"
    )
    assert str(three) not in invoke("gallery", "review")
    # and an unknown id is refused with its code
    bad = runner.invoke(app, ["gallery", "review", "--approve", "nope"])
    assert bad.exit_code == 1
    assert "NOT_FOUND" in bad.output


def test_token_create_grants_admin_when_asked(data_dir: Path) -> None:
    invoke("user", "create", "mod@example.com")
    invoke("token", "create", "mod@example.com", "--scopes", "ADMIN,READ")
    listing = invoke("token", "list", "mod@example.com")
    assert "READ,ADMIN" in listing
