"""What `heard run` logs: no secrets and no personal data at any level, unless told otherwise.

Two guards, both on the root handler so they cover every library:
- the bot token is replaced by `[token]` in every message and traceback (httpx, httpcore and
  python-telegram-bot put it in URLs and error texts);
- libraries that log what people sent or what the bot sent them are held at a floor below which
  nothing of theirs is written: python-telegram-bot (whole updates, every call's parameters) at
  INFO, httpcore (headers) at WARNING, httpx (a line per request) and the job scheduler (four
  lines every few seconds) at WARNING. Heard's own SQLite thread logs no SQL at all.

HEARD_UNSAFE_DEBUG_LOGS lifts the floors, for debugging on test data only: the log then holds
names, usernames and what people wrote, and says so in a warning when the bot starts.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

log = logging.getLogger("heard")

REDACTED = "[token]"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# The lowest level each library may log at, unless HEARD_UNSAFE_DEBUG_LOGS is on.
FLOORS: dict[str, int] = {
    "telegram": logging.INFO,
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "apscheduler": logging.WARNING,
}
UNSAFE_WARNING = (
    "HEARD_UNSAFE_DEBUG_LOGS is on: the log holds names, usernames and everything people "
    "write and are sent. Use it only with test data, never with real participants."
)


class TokenFilter(logging.Filter):
    """Replace secrets in a record's message and traceback before any handler writes it."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__("heard-token-filter")
        self.secrets = tuple(s for s in secrets if s)
        self._formatter = logging.Formatter()

    def redact(self, text: str) -> str:
        """Return text with every secret replaced."""
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the record in place; never drop it."""
        message = record.getMessage()
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def configure_logging(level: str, token: str, *, unsafe: bool = False) -> None:
    """Log to stderr at `level`, token redacted, libraries held at their floors unless unsafe."""
    logging.basicConfig(level=level, format=FORMAT)
    guard = TokenFilter([token])
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, TokenFilter) for f in handler.filters):
            handler.addFilter(guard)
    chosen = logging.getLevelName(level)
    for name, floor in FLOORS.items():
        logging.getLogger(name).setLevel(chosen if unsafe else max(chosen, floor))
    if unsafe:
        log.warning("%s", UNSAFE_WARNING)
