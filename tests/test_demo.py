"""The quick start's demo: it runs the real bot against the sandbox to the end, by itself,
and leaves a transcript, the digest's text in both languages and its chart."""

from __future__ import annotations

from pathlib import Path

from bot.demo import run_demo


async def test_the_demo_runs_to_the_end_and_writes_its_digest(tmp_path: Path) -> None:
    assert await run_demo(tmp_path) == 0
    transcript = (tmp_path / "transcript.txt").read_text(encoding="utf-8")
    for scene in (
        "== Bram (Dutch) opens the retail link and agrees ==",
        "== Ivo does not answer; a day later he gets one reminder ==",
        "== Tuesday 09:00: the weekly digest goes to the team, Dutch for Sanne ==",
        "== What the database holds ==",
    ):
        assert scene in transcript
    assert "Just a gentle reminder" in transcript
    english = (tmp_path / "digest.en.txt").read_text(encoding="utf-8")
    dutch = (tmp_path / "digest.nl.txt").read_text(encoding="utf-8")
    assert english.startswith("Pulse digest · 10 November – 17 November")
    assert "Hypotheses (do customers recognise them?)" in english
    assert dutch.startswith("Pulse-samenvatting · 10 november – 17 november")
    assert (tmp_path / "digest-chart.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    # Nothing the bot logged as a failure ended up in what a person reads.
    assert "Traceback" not in transcript
