"""The quick start's demo: `pulsebot demo` runs the real bot against the sandbox to the end,
by itself, and leaves a transcript, the digest's text in both languages and its chart."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_the_demo_runs_to_the_end_and_writes_its_digest(tmp_path: Path) -> None:
    # As the quick start runs it: its own process, so what it prints is all a person sees.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULSE_")}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "demo", "--out", str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    # Nothing the bot logged (Gijs blocks the bot right after a press, so his buttons
    # cannot come off) lands among the scenes without saying which.
    assert result.stderr == ""
    transcript = (tmp_path / "transcript.txt").read_text(encoding="utf-8")
    assert result.stdout.startswith(transcript)
    for scene in (
        "== Bram (Dutch) opens the retail link and agrees ==",
        "== Ivo does not answer; a day later he gets one reminder ==",
        "== Tuesday, past 09:00 (this team's digest time; Monday by default): the weekly digest"
        " goes to the team, Dutch for Sanne ==",
        "== What the database holds ==",
    ):
        assert scene in transcript
    assert "Just a gentle reminder" in transcript
    # The digest's day, moved before the demo began, is said where the demo begins.
    assert "moved the weekly digest from Monday 09:00, the default, to Tuesday 09:00" in (
        transcript.splitlines()[0]
    )
    # Taking the buttons off an earlier message is a short note, not the message again.
    assert (
        "bot -> Bram (buttons removed from an earlier message:"
        " “Mag ik je af en toe deze vragen stellen?”)"
    ) in transcript
    assert "(edit): Hoi! Ik ben Pulse" not in transcript
    assert "(edit): Hi! I'm Pulse" not in transcript
    english = (tmp_path / "digest.en.txt").read_text(encoding="utf-8")
    dutch = (tmp_path / "digest.nl.txt").read_text(encoding="utf-8")
    assert english.startswith("Pulse digest · 10 November – 17 November")
    assert "Hypotheses (do customers recognise them?)" in english
    assert dutch.startswith("Pulse-samenvatting · 10 november – 17 november")
    assert (tmp_path / "digest-chart.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    # Nothing the bot logged as a failure ended up in what a person reads.
    assert "Traceback" not in transcript
