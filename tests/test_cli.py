"""The `pulsebot` command line's operational commands."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from bot.sending.retries import STARTUP

TOKEN = "123456:CLI-TEST-token"


def pulsebot(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PULSE_")}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_backup_copies_the_database_without_needing_a_token(tmp_path: Path) -> None:
    pulsebot(tmp_path, "migrate")
    result = pulsebot(tmp_path, "backup", "copy.db")
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(tmp_path / "copy.db") as conn:
        names = [row[0] for row in conn.execute("SELECT name FROM segments")]
    assert names == ["general"]


def test_backup_of_a_missing_database_says_so(tmp_path: Path) -> None:
    result = pulsebot(tmp_path, "backup", "copy.db", PULSE_DATABASE_PATH="absent.db")
    assert result.returncode == 1
    assert result.stderr.strip() == "pulsebot: no database at absent.db"


def test_an_unusable_database_path_stops_run_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    result = pulsebot(
        tmp_path,
        "run",
        PULSE_BOT_TOKEN=TOKEN,
        PULSE_ADMIN_IDS="1",
        PULSE_DATABASE_PATH=str(tmp_path / "a-file" / "pulse.db"),
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("pulsebot: cannot open database")


def test_an_unreachable_bot_api_stops_run_after_logged_tries_with_one_line(
    tmp_path: Path,
) -> None:
    # Port 9 (discard) on loopback: nothing listens there, so the connection is refused.
    result = pulsebot(
        tmp_path,
        "run",
        PULSE_BOT_TOKEN=TOKEN,
        PULSE_ADMIN_IDS="1",
        PULSE_TELEGRAM_BASE_URL="http://127.0.0.1:9",
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    *tries, last = result.stderr.strip().splitlines()
    # Each try but the last is logged with its wait; then one line says what to fix.
    assert STARTUP.attempts is not None
    assert len(tries) == STARTUP.attempts - 1, result.stderr
    assert all("getMe failed" in line and "trying again in" in line for line in tries)
    assert last.startswith("pulsebot: cannot reach the Bot API at http://127.0.0.1:9")
    assert f"tried {STARTUP.attempts} times" in last
    assert TOKEN not in result.stderr


def test_export_writes_every_answer_as_spreadsheet_safe_csv(tmp_path: Path) -> None:
    pulsebot(tmp_path, "migrate")
    with sqlite3.connect(tmp_path / "pulse.db") as conn:
        conn.execute(
            "INSERT INTO customers (user_id, chat_id, first_name, language, segment_id, status,"
            " consented_at, enrolled_at, updated_at)"
            " VALUES (42, 42, '@Zoë', 'nl', 1, 'active', 0, 0, 0)"
        )
        conn.execute(
            "INSERT INTO rounds (id, schedule, scheduled_for, started_at, sample_size, target,"
            " seed) VALUES (1, 'checkin', 1795424400, 1795424400, '20', 1, 7)"
        )
        conn.execute(
            "INSERT INTO invitations (id, round_id, user_id, chat_id, segment_id, language,"
            " state, created_at, send_after, expires_at)"
            " VALUES (1, 1, 42, 42, 1, 'nl', 'done', 1795424400, 1795424400, 1795683600)"
        )
        conn.executemany(
            "INSERT INTO answers (invitation_id, question, value, skipped, answered_at)"
            " VALUES (1, ?, ?, ?, 1795424460)",
            [("score", "4", 0), ("challenge", "=1+1", 0), ("improvement", None, 1)],
        )
    result = pulsebot(tmp_path, "export", "--out", "answers.csv", PULSE_TIMEZONE="UTC")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "exported 3 answers to answers.csv"
    lines = (tmp_path / "answers.csv").read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("answered_at,round,round_started_at,segment,customer_id")
    # The last column, external_id, is empty: Zoë is not joined to a customer-base record.
    assert lines[1:] == [
        "2026-11-23T09:01:00+00:00,1,2026-11-23T09:00:00+00:00,general,42,'@Zoë,,,nl,score,4,no,,",
        "2026-11-23T09:01:00+00:00,1,2026-11-23T09:00:00+00:00,general,42,'@Zoë,,,nl,challenge,"
        "'=1+1,no,,",
        "2026-11-23T09:01:00+00:00,1,2026-11-23T09:00:00+00:00,general,42,'@Zoë,,,nl,improvement,"
        ",yes,,",
    ]


def test_export_to_a_folder_that_does_not_exist_says_so(tmp_path: Path) -> None:
    pulsebot(tmp_path, "migrate")
    result = pulsebot(tmp_path, "export", "--out", "missing/answers.csv")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "pulsebot: cannot write missing/answers.csv: No such file or directory"
    )


def test_check_refuses_the_placeholders_of_env_example_and_says_each(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parent.parent / ".env.example"
    (tmp_path / ".env").write_text(example.read_text(encoding="utf-8"), encoding="utf-8")
    result = pulsebot(tmp_path, "check")
    assert result.returncode == 2
    assert "configuration ok" not in result.stdout
    assert result.stderr.strip().splitlines() == [
        "pulsebot: PULSE_BOT_TOKEN is invalid: it is the example token from .env.example, not"
        " your bot's; copy your bot's token from @BotFather into PULSE_BOT_TOKEN.",
        "pulsebot: PULSE_ADMIN_IDS is invalid: 12345678 is the example id from .env.example,"
        " not yours; set PULSE_ADMIN_IDS to comma-separated Telegram user ids, e.g. 12345,67890.",
    ]
    assert not (tmp_path / "pulse.db").exists()


def test_check_says_the_database_folder_does_not_exist_and_does_not_make_it(
    tmp_path: Path,
) -> None:
    result = pulsebot(
        tmp_path,
        "check",
        PULSE_BOT_TOKEN=TOKEN,
        PULSE_ADMIN_IDS="1",
        PULSE_DATABASE_PATH="data/pulse.db",
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "pulsebot: PULSE_DATABASE_PATH is invalid: the folder data does not exist (create it,"
        " or pick another); set PULSE_DATABASE_PATH to a writable file path, e.g. pulse.db."
    )
    assert not (tmp_path / "data").exists()
