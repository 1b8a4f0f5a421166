"""Start-up settings: documented, validated with one clear line, and the token never logged."""

from __future__ import annotations

import io
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.running.logs import TokenRedactingFilter, configure_logging, redact
from bot.settings import ConfigError, Settings, env_name, load_settings

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456:SECRET-token_value"


def test_every_setting_is_documented_in_env_example() -> None:
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    documented = set(re.findall(r"^(PULSE_[A-Z_]+)=", example, flags=re.MULTILINE))
    assert documented == {env_name(field) for field in Settings.model_fields}
    for name in documented:
        # Each variable has a comment right above it.
        before = example.split(f"\n{name}=", 1)[0].rstrip().splitlines()[-1]
        assert before.startswith("#"), name


def _env(tmp_path: Path, **values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULSE_")}
    env.update(values)
    return env


def _run(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,  # no .env there
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"PULSE_ADMIN_IDS": "1"}, "PULSE_BOT_TOKEN is missing"),
        ({"PULSE_BOT_TOKEN": TOKEN}, "PULSE_ADMIN_IDS is missing"),
        ({"PULSE_BOT_TOKEN": TOKEN, "PULSE_ADMIN_IDS": "1,abc"}, "PULSE_ADMIN_IDS is invalid"),
        ({"PULSE_BOT_TOKEN": TOKEN, "PULSE_ADMIN_IDS": " , "}, "PULSE_ADMIN_IDS is invalid"),
        ({"PULSE_BOT_TOKEN": "nonsense", "PULSE_ADMIN_IDS": "1"}, "PULSE_BOT_TOKEN is invalid"),
        (
            {"PULSE_BOT_TOKEN": TOKEN, "PULSE_ADMIN_IDS": "1", "PULSE_TIMEZONE": "Mars/Base"},
            "PULSE_TIMEZONE is invalid",
        ),
        (
            {"PULSE_BOT_TOKEN": TOKEN, "PULSE_ADMIN_IDS": "1", "PULSE_LOG_LEVEL": "LOUD"},
            "PULSE_LOG_LEVEL is invalid",
        ),
        (
            {"PULSE_BOT_TOKEN": TOKEN, "PULSE_ADMIN_IDS": "1", "PULSE_TELEGRAM_BASE_URL": "ftp:x"},
            "PULSE_TELEGRAM_BASE_URL is invalid",
        ),
    ],
)
def test_a_missing_or_invalid_setting_stops_run_with_one_line(
    tmp_path: Path, values: dict[str, str], named: str
) -> None:
    result = _run(tmp_path, _env(tmp_path, **values), "run")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert named in lines[0]
    assert "Traceback" not in result.stderr
    assert "SECRET" not in result.stderr + result.stdout


def test_settings_are_read_from_a_dotenv_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(os.environ):
        if name.startswith("PULSE_"):
            monkeypatch.delenv(name)
    (tmp_path / ".env").write_text(
        f"PULSE_BOT_TOKEN={TOKEN}\nPULSE_ADMIN_IDS=5, 6\nPULSE_TIMEZONE=Europe/London\n"
    )
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.admin_ids == (5, 6)
    assert settings.timezone == "Europe/London"
    assert settings.api_base_url == "https://api.telegram.org/bot"
    assert TOKEN not in repr(settings)


def test_the_base_url_may_be_given_with_or_without_the_bot_suffix() -> None:
    for given in ("http://127.0.0.1:8081", "http://127.0.0.1:8081/", "http://127.0.0.1:8081/bot"):
        settings = load_settings(
            _env_file=None, bot_token=TOKEN, admin_ids="1", telegram_base_url=given
        )
        assert settings.api_base_url == "http://127.0.0.1:8081/bot"


def test_invalid_settings_raise_config_error_without_the_token() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(_env_file=None, bot_token="12:has spaces", admin_ids="1")
    assert "has spaces" not in str(caught.value)


def test_the_token_is_redacted_from_log_messages_and_tracebacks() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(TokenRedactingFilter(TOKEN))
    logger = logging.getLogger("pulse.test.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.error("POST https://api.telegram.org/bot%s/getMe failed", TOKEN)
        try:
            raise RuntimeError(f"connect to /bot{TOKEN}/sendMessage refused")
        except RuntimeError:
            logger.exception("send failed")
        logger.warning("encoded: %s", TOKEN.replace(":", "%3A"))
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert TOKEN not in output
    assert "SECRET-token_value" not in output
    assert output.count("[REDACTED]") == 3
    assert "RuntimeError" in output


@pytest.mark.parametrize(
    "form",
    [
        TOKEN,
        TOKEN.replace(":", "%3A"),
        TOKEN.replace(":", "%3a"),
        TOKEN.lower(),  # PTB lower-cases a "Bad Request: ..." description
        TOKEN.upper(),
        TOKEN.partition(":")[2],  # the secret alone
    ],
)
def test_redact_masks_the_token_in_every_form_a_server_may_repeat_it(form: str) -> None:
    redacted = redact(f"No route to /bot{form}/getme", TOKEN)
    assert TOKEN.partition(":")[2].lower() not in redacted.lower()
    assert "[REDACTED]" in redacted


def test_configured_logging_silences_httpx_request_urls() -> None:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        configure_logging("DEBUG", TOKEN)
        assert logging.getLogger("httpx").getEffectiveLevel() >= logging.WARNING
        assert any(isinstance(f, TokenRedactingFilter) for h in root.handlers for f in h.filters)
    finally:
        root.handlers[:], root.level = saved[0], saved[1]
