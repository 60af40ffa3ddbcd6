"""Standard Webhooks signatures: `whsec_` secrets and the three signed headers.

The receiver checks `v1,` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")),
where the key is the secret's base64 part decoded, and refuses timestamps far
from its clock, so a captured request cannot be replayed later.
"""

import base64
import hashlib
import hmac
import secrets
import time
import uuid

SECRET_PREFIX = "whsec_"
# Standard Webhooks asks for 24 to 64 bytes of key.
SECRET_BYTES = 32
USER_AGENT = "Darkroom-Webhooks/1"


def new_secret() -> str:
    """A fresh signing secret, as the receiver configures it."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def message_id(delivery_id: uuid.UUID) -> str:
    """The webhook-id of a delivery: the same on every attempt, so receivers
    can drop a repeat."""
    return f"msg_{delivery_id.hex}"


def signature(secret: str, *, msg_id: str, timestamp: int, body: str) -> str:
    """The webhook-signature value for one message."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{msg_id}.{timestamp}.{body}".encode()
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(
    secret: str,
    *,
    msg_id: str,
    body: str,
    timestamp: int | None = None,
    previous: str | None = None,
) -> dict[str, str]:
    """The headers of one attempt, signed now (or at `timestamp`, in seconds);
    with `previous`, signed by it too, as the spec's space-separated list, so a
    receiver still on the old secret verifies it."""
    at = int(time.time()) if timestamp is None else timestamp
    secrets_ = [secret] if previous is None else [secret, previous]
    signatures = [
        signature(each, msg_id=msg_id, timestamp=at, body=body) for each in secrets_
    ]
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(at),
        "webhook-signature": " ".join(signatures),
    }
