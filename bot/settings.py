"""Start-up configuration from the environment and `.env` (prefix `PULSE_`).

Everything else is a runtime setting in the database, changed by admin command.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ENV_PREFIX = "PULSE_"
_TOKEN = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{16,256}")
# The placeholders of .env.example: a copy not yet filled in would otherwise pass every
# check here and fail only at Telegram (the token) or never (the admin id: a stranger's).
EXAMPLE_TOKEN = "123456789:replace-with-your-token"  # noqa: S105 - the example's, not a secret
EXAMPLE_ADMIN_ID = 12345678

# How to fix each setting, for the one line printed when it is missing or invalid.
HINTS = {
    "bot_token": "copy your bot's token from @BotFather into PULSE_BOT_TOKEN",
    "admin_ids": "set PULSE_ADMIN_IDS to comma-separated Telegram user ids, e.g. 12345,67890",
    "database_path": "set PULSE_DATABASE_PATH to a writable file path, e.g. pulse.db",
    "timezone": "set PULSE_TIMEZONE to an IANA time zone name, e.g. Europe/Amsterdam",
    "telegram_base_url": "set PULSE_TELEGRAM_BASE_URL to a URL such as https://api.telegram.org",
    "log_level": "set PULSE_LOG_LEVEL to DEBUG, INFO, WARNING or ERROR",
    "webhook_url": "set PULSE_WEBHOOK_URL to the public https:// URL Telegram posts updates to",
    "webhook_secret": "set PULSE_WEBHOOK_SECRET to 16-256 random letters, digits, '_' or '-'",
    "webhook_listen": "set PULSE_WEBHOOK_LISTEN to the address to listen on, e.g. 127.0.0.1",
    "webhook_port": "set PULSE_WEBHOOK_PORT to a port number, e.g. 8080",
    "health_listen": "set PULSE_HEALTH_LISTEN to the address to listen on, e.g. 127.0.0.1",
    "health_port": "set PULSE_HEALTH_PORT to a port number (0: any free one), e.g. 8090",
    "log_format": "set PULSE_LOG_FORMAT to text or json",
}


class ConfigError(Exception):
    """A start-up setting is missing or invalid; the message names it and how to fix it.

    `problems` holds one such line per bad setting (the message is the first), for
    `pulsebot check`, which says them all.
    """

    def __init__(self, message: str, problems: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems or (message,)


class StorageSettings(BaseSettings):
    """The settings that operational commands (backup, export, health) need without a token."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_path: Path = Path("pulse.db")
    # Operational commands write times (the export) in it, so it is here, not below.
    timezone: str = "Europe/Amsterdam"
    # /healthz and /metrics, in both modes; port 0 takes any free port (the log says which).
    health_listen: str = "127.0.0.1"
    health_port: int = Field(default=8090, ge=0, le=65535)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not a known time zone") from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        """The configured time zone."""
        return ZoneInfo(self.timezone)


class Settings(StorageSettings):
    """Pulse's start-up settings."""

    bot_token: SecretStr
    admin_ids: Annotated[tuple[int, ...], NoDecode]
    telegram_base_url: str = "https://api.telegram.org"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # `pulsebot run --webhook`: Telegram POSTs updates to this public HTTPS URL, which a
    # reverse proxy passes to webhook_listen:webhook_port.
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8080, ge=1, le=65535)
    # "json": one object per line on stderr, for a log collector (journald, Loki, ...).
    log_format: Literal["text", "json"] = "text"

    @field_validator("database_path")
    @classmethod
    def _existing_folder(cls, value: Path) -> Path:
        # Not created for you: a typo in the path would otherwise start an empty database
        # somewhere unexpected, and the real one would look lost.
        folder = value.parent
        if not folder.exists():
            raise ValueError(f"the folder {folder} does not exist (create it, or pick another)")
        return value

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr) -> SecretStr:
        # The message must not echo the value: it is a secret.
        if not _TOKEN.match(value.get_secret_value()):
            raise ValueError("does not look like a bot token (digits, a colon, then letters)")
        if value.get_secret_value() == EXAMPLE_TOKEN:
            raise ValueError("it is the example token from .env.example, not your bot's")
        return value

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: Any) -> Any:
        if isinstance(value, str):
            parts = [part.strip() for part in value.split(",") if part.strip()]
            if not parts:
                raise ValueError("is empty: at least one admin is needed")
            try:
                return tuple(int(part) for part in parts)
            except ValueError:
                raise ValueError("must be whole numbers separated by commas") from None
        return value

    @field_validator("admin_ids")
    @classmethod
    def _positive_ids(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value:
            raise ValueError("is empty: at least one admin is needed")
        if any(user_id <= 0 for user_id in value):
            raise ValueError("must be positive Telegram user ids")
        if EXAMPLE_ADMIN_ID in value:
            raise ValueError(f"{EXAMPLE_ADMIN_ID} is the example id from .env.example, not yours")
        return value

    @field_validator("telegram_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must start with http:// or https://")
        # Accept the form PTB itself uses, ".../bot", as well as the server root.
        return value.rstrip("/").removesuffix("/bot")

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be the public https:// address Telegram is to post to")
        return value

    @field_validator("webhook_url", "webhook_secret", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        # `PULSE_WEBHOOK_URL=` as .env.example has it: not set.
        return None if value == "" else value

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        # Telegram's rule for secret_token, and a length no one guesses.
        if value is not None and not _WEBHOOK_SECRET.fullmatch(value.get_secret_value()):
            raise ValueError(
                "must be 16 to 256 letters, digits, '_' or '-' (for example the output of"
                " python -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
        return value

    def webhook_problems(self) -> tuple[str, ...]:
        """What `run --webhook` is missing, one line each."""
        return tuple(
            f"{env_name(name)} is missing: {HINTS[name]}."
            for name, value in (
                ("webhook_url", self.webhook_url),
                ("webhook_secret", self.webhook_secret),
            )
            if value is None
        )

    @property
    def api_base_url(self) -> str:
        """The prefix PTB puts before `<token>/<method>`."""
        return f"{self.telegram_base_url}/bot"

    @property
    def file_base_url(self) -> str:
        """The prefix PTB puts before `<token>/<file path>`."""
        return f"{self.telegram_base_url}/file/bot"


def env_name(field: str) -> str:
    """The environment variable that sets a field."""
    return f"{ENV_PREFIX}{field.upper()}"


def load_settings(**overrides: Any) -> Settings:
    """Reads the settings; raises ConfigError with one line naming the first bad variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = describe_all(exc)
        raise ConfigError(problems[0], problems) from None


def load_storage_settings() -> StorageSettings:
    """Reads only the database settings; raises ConfigError like `load_settings`."""
    try:
        return StorageSettings()
    except ValidationError as exc:
        problems = describe_all(exc)
        raise ConfigError(problems[0], problems) from None


def describe_all(exc: ValidationError) -> tuple[str, ...]:
    """One line per problem (which variable, what is wrong, how to fix it), in the order
    of the settings."""
    return tuple(_describe(error) for error in exc.errors())


def _describe(error: ErrorDetails) -> str:
    field = str(error["loc"][0]) if error["loc"] else ""
    name = env_name(field) if field else "configuration"
    hint = HINTS.get(field, "")
    if error["type"] == "missing":
        return f"{name} is missing: {hint}."
    reason = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "literal_error":
        reason = "is not a known value"
    return f"{name} is invalid: {reason}; {hint}."
