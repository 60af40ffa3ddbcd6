"""Which tokens still authenticate, asked for many at once."""

import uuid

from core.accounts import create_user
from core.credits import FreeCreditPolicy
from core.db import Database
from core.enums import Tier
from core.tokens import active_token_ids, create_token, revoke_token

POLICY = FreeCreditPolicy()


async def test_only_active_tokens_of_existing_accounts_are_active(db: Database) -> None:
    # given an account with two tokens, one of them revoked
    async with db.session() as session:
        user = await create_user(
            session, email="a@example.com", tier=Tier.PRO, policy=POLICY
        )
        kept, _ = await create_token(session, user_id=user.id)
        gone, _ = await create_token(session, user_id=user.id)
        await revoke_token(session, user_id=user.id, token_id=gone.id)
    # when the three ids (one unknown) are checked together
    async with db.session() as session:
        active = await active_token_ids(
            session, token_ids=[kept.id, gone.id, uuid.uuid4()]
        )
    # then only the live one is active
    assert active == {kept.id}
