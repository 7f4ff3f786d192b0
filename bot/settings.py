"""Settings from the environment and `.env`, with one clear line per bad setting."""

from __future__ import annotations

import re
from datetime import time
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.dispatch.quiet_hours import DEFAULT_QUIET_HOURS, QuietHours
from conversations.render import STAFF_HOURS

TOKEN_PATTERN = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{20,}$")
TELEGRAM_API = "https://api.telegram.org/bot"

# What each setting expects, for messages that name the setting.
EXPECTED = {
    "TELEGRAM_BOT_TOKEN": "a bot token from @BotFather, like 123456789:AAE...",
    "TELEGRAM_API_URL": "an http(s) URL ending in /bot, like http://127.0.0.1:8081/bot",
    "HEARD_DATABASE": "a path to the SQLite file, like heard.db",
    "HEARD_CONVERSATIONS": "an existing folder of conversation files (.yaml)",
    "HEARD_ADMINS": "Telegram user ids separated by commas, like 12345,67890",
    "HEARD_TIMEZONE": "a time zone name, like Europe/London",
    "HEARD_DEFAULT_FLOW": "the id of a conversation, like community-mental-health",
    "HEARD_LOG_LEVEL": "one of DEBUG, INFO, WARNING, ERROR",
    "HEARD_UNSAFE_DEBUG_LOGS": "true or false (true only for debugging on test data)",
    "HEARD_MINIMUM_AGE": "a whole number of years from 13 to 120, like 18",
    "HEARD_RETENTION_DAYS": "a whole number of days from 1 to 36500, like 730",
    "HEARD_SAFEGUARDING_CHAT": "a Telegram chat id, like -1001234567890 for a private group",
    "HEARD_STAFF_HOURS": "when people read messages, said plainly, like: on weekdays, 9am to 5pm",
    "HEARD_FLAG_REMINDER_HOURS": "hours before an unreviewed flag is alerted again, like 24",
    "HEARD_RISK_PHRASES": "an existing risk phrases file (.yaml)",
    "HEARD_SUPPORT_FILE": "an existing support lines file (.yaml), like my-support.yaml",
    "HEARD_QUIET_HOURS": "a local time span like 21:00-09:00, or empty to send at any hour",
    "HEARD_SEND_RATE": "proactive messages a second, above 0 and up to 1000, like 25",
    "HEARD_BACKUP_DIR": "an existing folder for the daily backups, or empty for none",
    "HEARD_BACKUP_KEEP": "how many daily backups to keep, a whole number from 1 to 1000, like 7",
    "HEARD_BACKUP_TIME": "a local time of day in HEARD_TIMEZONE, like 03:30",
}


class SettingsError(Exception):
    """A missing or malformed setting, said in one line."""


class Settings(BaseSettings):
    """Everything Heard reads from its environment."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    telegram_bot_token: str | None = None
    telegram_api_url: str = TELEGRAM_API
    heard_database: Path = Path("heard.db")
    heard_conversations: Path | None = None
    heard_admins: Annotated[tuple[int, ...], NoDecode] = ()
    heard_timezone: str = "Europe/London"
    heard_default_flow: str = "community-mental-health"
    heard_log_level: str = Field(default="INFO")
    # Lifts the log's guards on personal data: for debugging on test data only.
    heard_unsafe_debug_logs: bool = False
    heard_minimum_age: int = Field(default=18, ge=13, le=120)
    heard_support_file: Path | None = None
    heard_retention_days: int = Field(default=730, ge=1, le=36_500)
    heard_safeguarding_chat: int | None = None
    heard_staff_hours: str = Field(default=STAFF_HOURS, min_length=3, max_length=120)
    heard_flag_reminder_hours: float = Field(default=24, gt=0, le=24 * 14)
    heard_risk_phrases: Path | None = None
    heard_quiet_hours: str = DEFAULT_QUIET_HOURS
    heard_send_rate: float = Field(default=25.0, gt=0, le=1000)
    heard_backup_dir: Path | None = None
    heard_backup_keep: int = Field(default=7, ge=1, le=1000)
    heard_backup_time: str = "03:30"

    @field_validator("telegram_bot_token")
    @classmethod
    def _token(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        assert value is not None
        if not TOKEN_PATTERN.match(value.strip()):
            raise ValueError("not a bot token")
        return value.strip()

    @field_validator("telegram_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+(/\S*)?$", value):
            raise ValueError("not an http(s) URL")
        return value.rstrip("/")

    @field_validator("heard_conversations")
    @classmethod
    def _conversations(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_dir():
            raise ValueError("not a folder")
        return value

    @field_validator("heard_risk_phrases")
    @classmethod
    def _phrases_file(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError("not a file")
        return value

    @field_validator("heard_backup_dir", mode="before")
    @classmethod
    def _backup_dir(cls, value: Any) -> Any:
        if value in (None, ""):
            return None
        if not Path(value).is_dir():
            raise ValueError("not a folder")
        return value

    @field_validator("heard_backup_time")
    @classmethod
    def _backup_time(cls, value: str) -> str:
        found = re.fullmatch(r"\s*([01]?\d|2[0-3]):([0-5]\d)\s*", value)
        if found is None:
            raise ValueError("not a time of day")
        return f"{int(found[1]):02d}:{found[2]}"

    @field_validator("heard_safeguarding_chat", mode="before")
    @classmethod
    def _chat(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("heard_support_file")
    @classmethod
    def _support_file(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError("not a file")
        return value

    @field_validator("heard_admins", mode="before")
    @classmethod
    def _admins(cls, value: Any) -> tuple[int, ...]:
        if isinstance(value, str):
            parts = [part.strip() for part in value.split(",") if part.strip()]
            if not all(part.isdigit() for part in parts):
                raise ValueError("not a list of user ids")
            return tuple(int(part) for part in parts)
        return tuple(value)

    @field_validator("heard_timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("unknown time zone") from None
        return value

    @field_validator("heard_quiet_hours")
    @classmethod
    def _quiet_hours(cls, value: str) -> str:
        QuietHours.parse(value)  # raises ValueError with what was expected
        return value.strip()

    @field_validator("heard_log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        if value.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError("unknown log level")
        return value.upper()

    @property
    def zone(self) -> ZoneInfo:
        """Return the time zone for anything shown or scheduled in local time."""
        return ZoneInfo(self.heard_timezone)

    @property
    def backup_time(self) -> time:
        """Return when the daily backup is taken, in local time (HEARD_TIMEZONE)."""
        hours, minutes = self.heard_backup_time.split(":")
        return time(int(hours), int(minutes), tzinfo=self.zone)

    @property
    def quiet_hours(self) -> QuietHours | None:
        """Return the local hours in which nothing proactive is sent (None: send any time)."""
        return QuietHours.parse(self.heard_quiet_hours)

    def require_token(self) -> str:
        """Return the bot token, or raise SettingsError if it is not set."""
        if self.telegram_bot_token is None:
            raise SettingsError(
                f"TELEGRAM_BOT_TOKEN is not set: expected {EXPECTED['TELEGRAM_BOT_TOKEN']}"
            )
        return self.telegram_bot_token


def load_settings(env_file: str | Path | None = ".env", **overrides: Any) -> Settings:
    """Read settings; raise SettingsError naming the first bad setting and what it expects."""
    try:
        return Settings(_env_file=env_file, **overrides)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "a setting"
        got = first.get("input")
        shown = (
            f" (got {got!r})"
            if isinstance(got, str | int) and name != "TELEGRAM_BOT_TOKEN"
            else ""
        )
        expected = EXPECTED.get(name, first["msg"])
        raise SettingsError(f"{name} is not valid{shown}: expected {expected}") from None
