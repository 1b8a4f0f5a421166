"""`pulsebot settings`: the same settings as /settings, for an operator without Telegram."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.test_cli import TOKEN, pulsebot

ENV = {"PULSE_BOT_TOKEN": TOKEN, "PULSE_ADMIN_IDS": "1"}


def test_settings_prints_every_setting_and_the_next_runs(tmp_path: Path) -> None:
    assert pulsebot(tmp_path, "migrate").returncode == 0
    with sqlite3.connect(tmp_path / "pulse.db") as conn:
        # As /schedule and /timezone would have stored them.
        conn.executemany(
            "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, 0)",
            [
                ("checkin_days", '["mon", "tue", "wed", "thu", "fri"]'),
                ("checkin_time", '"09:30"'),
                ("timezone", '"America/New_York"'),
            ],
        )
    # No token or admins needed: an operator reads the settings from the database alone.
    result = pulsebot(tmp_path, "settings")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Settings"
    assert "Check-ins: mon-fri at 09:30" in lines
    assert "Time zone: America/New_York" in lines
    assert "Quiet hours: 20:00–09:00" in lines
    assert any(line.startswith("Next check-ins: ") for line in lines)
    assert any(line.startswith("Next digest: ") for line in lines)
    assert "<" not in result.stdout
    dutch = pulsebot(tmp_path, "settings", "--language", "nl", **ENV)
    assert "Check-ins: ma-vr om 09:30" in dutch.stdout.splitlines()


def test_settings_without_a_database_says_so(tmp_path: Path) -> None:
    result = pulsebot(tmp_path, "settings", PULSE_DATABASE_PATH="absent.db", **ENV)
    assert result.returncode == 1
    assert result.stderr.strip() == "pulsebot: no database at absent.db"
