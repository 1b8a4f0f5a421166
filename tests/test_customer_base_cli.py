"""`pulsebot customers import` and `links`, run as real processes on a real database."""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

from storage.personal_invites import token_hash
from tests.test_cli import pulsebot

GOOD = (
    "external_id,name,segment,language,plan,region\n"
    "C-1,Bakkerij de Vries,retail,nl,pro,north\n"
    "C-2,Harbour Freight,wholesale,en,basic,\n"
    "C-3,Chez Claire,Retail,EN,,south\n"
)
BAD = GOOD + "C-4,Otto,retail,de,,\nC-1,Again,retail,nl,,\n,Nobody,retail,nl,,\nC-5,Eve,,en,,\n"


def rows(tmp_path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(tmp_path / "pulse.db") as conn:
        return conn.execute(sql).fetchall()


def write(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


def test_a_file_with_bad_rows_writes_nothing_and_says_which_lines_and_why(tmp_path: Path) -> None:
    assert pulsebot(tmp_path, "migrate").returncode == 0
    write(tmp_path, "crm.csv", BAD)

    result = pulsebot(tmp_path, "customers", "import", "crm.csv")

    assert result.returncode == 1
    out = result.stdout.splitlines()
    assert "Bad rows: 4" in out
    assert "line 5: the language “de” of C-4 is neither nl nor en" in out
    assert "line 6: C-1 is already on line 2" in out
    assert "line 7: no external id" in out
    assert "line 8: C-5 has no segment" in out
    assert "Nothing was written, because of the bad rows." in out
    assert "--skip-bad" in result.stderr
    assert rows(tmp_path, "SELECT count(*) FROM base_customers") == [(0,)]
    assert rows(tmp_path, "SELECT name FROM segments") == [("general",)]

    skipped = pulsebot(tmp_path, "customers", "import", "crm.csv", "--skip-bad")

    assert skipped.returncode == 0, skipped.stderr
    assert "New: 3" in skipped.stdout.splitlines()
    assert "New segments, created by the import: retail, wholesale" in skipped.stdout
    stored = rows(
        tmp_path,
        "SELECT b.external_id, b.name, s.name, b.language, b.attributes FROM base_customers b"
        " JOIN segments s ON s.id = b.segment_id ORDER BY b.external_id",
    )
    assert stored == [
        ("C-1", "Bakkerij de Vries", "retail", "nl", '{"plan": "pro", "region": "north"}'),
        ("C-2", "Harbour Freight", "wholesale", "en", '{"plan": "basic"}'),
        ("C-3", "Chez Claire", "retail", "en", '{"region": "south"}'),  # one segment, any case
    ]
    audited = rows(tmp_path, "SELECT action, subject, new_value FROM audit_log ORDER BY id")
    assert (
        "base.import",
        "crm.csv",
        "3 new, 0 changed, 0 unchanged, 0 marked gone, 4 bad left out",
    ) in audited


def test_importing_the_same_file_again_changes_nothing(tmp_path: Path) -> None:
    pulsebot(tmp_path, "migrate")
    write(tmp_path, "crm.csv", GOOD)
    assert pulsebot(tmp_path, "customers", "import", "crm.csv").returncode == 0
    before = rows(tmp_path, "SELECT * FROM base_customers ORDER BY id")

    again = pulsebot(tmp_path, "customers", "import", "crm.csv")

    assert again.returncode == 0, again.stderr
    assert "New: 0" in again.stdout.splitlines()
    assert "Changed: 0" in again.stdout.splitlines()
    assert "Unchanged: 3" in again.stdout.splitlines()
    assert rows(tmp_path, "SELECT * FROM base_customers ORDER BY id") == before
    # Columns in another order, and a semicolon-separated export, are the same file.
    write(
        tmp_path,
        "reordered.csv",
        "language;segment;name;external_id;region;plan\n"
        "nl;retail;Bakkerij de Vries;C-1;north;pro\n"
        "en;wholesale;Harbour Freight;C-2;;basic\n"
        "en;retail;Chez Claire;C-3;south;\n",
    )
    third = pulsebot(tmp_path, "customers", "import", "reordered.csv")
    assert "Unchanged: 3" in third.stdout.splitlines(), third.stdout + third.stderr
    assert rows(tmp_path, "SELECT * FROM base_customers ORDER BY id") == before


def test_a_removed_row_is_marked_gone_only_when_confirmed_and_never_deleted(
    tmp_path: Path,
) -> None:
    pulsebot(tmp_path, "migrate")
    write(tmp_path, "crm.csv", GOOD)
    pulsebot(tmp_path, "customers", "import", "crm.csv")
    write(tmp_path, "fewer.csv", "\n".join(GOOD.splitlines()[:3]) + "\n")

    unconfirmed = pulsebot(tmp_path, "customers", "import", "fewer.csv")

    assert unconfirmed.returncode == 0
    assert "In the base but not in this file (to be marked gone): 1" in unconfirmed.stdout
    assert "--mark-missing-gone" in unconfirmed.stdout
    assert rows(tmp_path, "SELECT count(*) FROM base_customers WHERE gone_at IS NOT NULL") == [
        (0,)
    ]

    confirmed = pulsebot(tmp_path, "customers", "import", "fewer.csv", "--mark-missing-gone")

    assert confirmed.returncode == 0
    assert "1 customer not in the file is marked gone" in confirmed.stdout
    assert rows(tmp_path, "SELECT external_id FROM base_customers WHERE gone_at IS NOT NULL") == [
        ("C-3",)
    ]
    assert rows(tmp_path, "SELECT count(*) FROM base_customers") == [(3,)]


def test_links_writes_a_personal_link_per_customer_and_stores_only_hashes(tmp_path: Path) -> None:
    pulsebot(tmp_path, "migrate")
    write(tmp_path, "crm.csv", GOOD)
    pulsebot(tmp_path, "customers", "import", "crm.csv")

    result = pulsebot(
        tmp_path,
        "customers",
        "links",
        "--segment",
        "retail",
        "--out",
        "links.csv",
        "--bot",
        "pulse_bot",
    )

    assert result.returncode == 0, result.stderr
    assert "wrote 2 personal links to links.csv, valid for 30 days" in result.stdout
    with (tmp_path / "links.csv").open(encoding="utf-8") as handle:
        written = list(csv.DictReader(handle))
    assert [(r["external_id"], r["name"]) for r in written] == [
        ("C-1", "Bakkerij de Vries"),
        ("C-3", "Chez Claire"),
    ]
    tokens = [r["link"].split("https://t.me/pulse_bot?start=", 1)[1] for r in written]
    assert len(set(tokens)) == 2
    assert all(len(t) >= 24 for t in tokens)
    stored = {str(r[0]) for r in rows(tmp_path, "SELECT token_hash FROM personal_invites")}
    assert stored == {token_hash(t) for t in tokens}
    files = [tmp_path / "pulse.db", tmp_path / "pulse.db-wal"]
    database = b"".join(f.read_bytes() for f in files if f.exists())
    assert not any(t.encode() in database for t in tokens)  # the file alone makes no link

    again = pulsebot(tmp_path, "customers", "links", "--out", "links.csv", "--bot", "pulse_bot")
    assert again.returncode == 1
    assert "exists" in again.stderr
    unknown = pulsebot(
        tmp_path, "customers", "links", "--segment", "nope", "--out", "x.csv", "--bot", "b"
    )
    assert unknown.returncode == 1
    assert unknown.stderr.strip() == "pulsebot: there is no segment called nope"
    assert not (tmp_path / "x.csv").exists()


def test_import_of_a_missing_or_unreadable_file_says_so(tmp_path: Path) -> None:
    pulsebot(tmp_path, "migrate")
    missing = pulsebot(tmp_path, "customers", "import", "absent.csv")
    assert missing.returncode == 1
    assert missing.stderr.strip() == "pulsebot: no file at absent.csv"
    (tmp_path / "latin.csv").write_bytes(
        "external_id,name,segment,language\nC-1,Caf\xe9,retail,nl\n".encode("latin-1")
    )
    latin = pulsebot(tmp_path, "customers", "import", "latin.csv")
    assert latin.returncode == 1
    assert "not UTF-8" in latin.stderr
    assert rows(tmp_path, "SELECT count(*) FROM base_customers") == [(0,)]
