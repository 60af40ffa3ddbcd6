"""`darkroom console-link EMAIL`: a one-time sign-in link to the browser console."""

from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts import get_user_by_email
from core.sessions import CODE_LIFETIME, create_login_code
from darkroom.console import in_session, out, settings_or_exit

LOGIN_PATH = "/console/login"


def login_link(base_url: str, code: str) -> str:
    """Where a sign-in code is used: the console's login page on this server."""
    return f"{base_url.rstrip('/')}{LOGIN_PATH}?code={code}"


def console_link(email: str) -> None:
    """Print a sign-in link for the account's console: good once, for 15 minutes."""
    settings = settings_or_exit()

    async def work(session: AsyncSession) -> str:
        user = await get_user_by_email(session, email=email)
        return await create_login_code(session, user_id=user.id)

    code = in_session(work)
    minutes = int(CODE_LIFETIME.total_seconds() // 60)
    out.print(f"Sign-in link for {email} (works once, for {minutes} minutes):")
    # Alone on its line, unwrapped, for scripts and copy-paste.
    print(login_link(settings.public_base_url, code), flush=True)
