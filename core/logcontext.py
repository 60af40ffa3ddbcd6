"""What a log line is about: the request, job and account at hand, and no secrets.

Context variables carry the ids through the awaits of one request or job; a
filter copies them onto every record and masks secrets, so each line can be
matched to a user's error report (its `requestId`) and none leaks a token.
"""

import json
import logging
import re
from contextvars import ContextVar
from datetime import UTC, datetime

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
job_id: ContextVar[str | None] = ContextVar("job_id", default=None)
account_id: ContextVar[str | None] = ContextVar("account_id", default=None)

# API tokens, webhook signing secrets, and the signature of a signed file link.
_SECRETS = re.compile(
    r"(drk_)[0-9a-f]{64}|(whsec_)[A-Za-z0-9+/=_-]+|([?&]signature=)[^&\s\"']+"
)


def redact(text: str) -> str:
    """`text` with every secret replaced by its prefix and `[redacted]`."""
    return _SECRETS.sub(
        lambda m: (m.group(1) or m.group(2) or m.group(3)) + "[redacted]", text
    )


class ContextFilter(logging.Filter):
    """Put the ids in context on each record and mask secrets in its text."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        record.job_id = job_id.get()
        record.account_id = account_id.get()
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        record.msg, record.args = redact(message), None
        return True


class TextFormatter(logging.Formatter):
    """Readable lines: time, level, logger, the ids known, the message."""

    def format(self, record: logging.LogRecord) -> str:
        ids = " ".join(
            f"{name}={value}"
            for name in ("request_id", "job_id", "account_id")
            if (value := getattr(record, name, None))
        )
        line = super().format(record)
        return line if not ids else line.replace(" | ", f" [{ids}] ", 1)


class JsonFormatter(logging.Formatter):
    """One JSON object a line, for log collectors."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in ("request_id", "job_id", "account_id"):
            if value := getattr(record, name, None):
                entry[name] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(self.formatException(record.exc_info))
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, separators=(",", ":"))
