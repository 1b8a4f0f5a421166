"""The customer base through the real Application on a fake transport: a CSV sent by an
admin is previewed and imported on a button, personal links join an account to its record
once, and the external id shows where staff look for it; /forget unlinks it."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from datetime import timedelta
from pathlib import Path

from bot.clock import ManualClock
from bot.common.context import PulseApplication
from bot.customer_base.importing import run_import
from storage import customer_base, customers
from storage.customers import CustomerStatus
from storage.db import fetch_all
from tests import builders
from tests.builders import Person
from tests.conftest import ADMIN, handle, services_of
from tests.test_enrollment import invite_code
from tests.transport import BOT_USERNAME, FakeTelegram

BRAM = Person(11, "Bram", "nl-NL", "bram")
CLAIRE = Person(12, "Claire", "en", "claire")
DEAN = Person(13, "Dean", "en", "dean")
LINK = f"https://t.me/{BOT_USERNAME}?start="

BASE = (
    "external_id,name,segment,language,plan\n"
    "C-1,Bakkerij de Vries,retail,nl,pro\n"
    "C-2,Harbour Freight,wholesale,en,basic\n"
    "C-3,Chez Claire,retail,en,\n"
)


async def send(app: PulseApplication, person: Person, text: str) -> None:
    await handle(app, builders.message(app.bot, person, text))


async def press(app: PulseApplication, person: Person, data: str) -> None:
    await handle(app, builders.press(app.bot, person, data))


async def send_file(
    app: PulseApplication, telegram: FakeTelegram, person: Person, content: str, name: str
) -> None:
    file_id = f"f{len(telegram.calls)}"
    data = content.encode()
    telegram.add_file(file_id, data)
    await handle(app, builders.document(app.bot, person, file_id, name, len(data)))


async def records(app: PulseApplication) -> dict[str, customer_base.BaseCustomer | None]:
    """The base by external id; a record marked gone as None."""

    def read_base(
        conn: sqlite3.Connection,
    ) -> tuple[list[customer_base.BaseCustomer], list[sqlite3.Row]]:
        found = customer_base.page_in_segment(conn, None, 0, 1000)
        gone = fetch_all(conn, "SELECT external_id FROM base_customers WHERE gone_at IS NOT NULL")
        return found, gone

    found, gone = await services_of(app).db.read(read_base)
    kept: dict[str, customer_base.BaseCustomer | None] = {r.external_id: r for r in found}
    return kept | {str(g[0]): None for g in gone}


async def import_directly(app: PulseApplication, tmp_path: Path, content: str) -> None:
    path = tmp_path / "base.csv"
    path.write_text(content, encoding="utf-8")
    services = services_of(app)
    report = await run_import(
        services.db,
        path,
        skip_bad=False,
        mark_gone=False,
        actor_id=ADMIN.id,
        now=services.now(),
        source="base.csv",
    )
    assert report.applied


async def personal_link(app: PulseApplication, telegram: FakeTelegram, external_id: str) -> str:
    await send(app, ADMIN, f"/invite {external_id}")
    text = telegram.last_text(ADMIN.id)
    assert LINK in text, text
    return text.split(LINK, 1)[1].split()[0]


async def consent(
    app: PulseApplication, telegram: FakeTelegram, person: Person, code: str
) -> None:
    await send(app, person, f"/start {code}")
    buttons = telegram.last_buttons(person.id)
    assert buttons, telegram.last_text(person.id)
    await press(app, person, buttons[0][1])


# --- the import sent as a document ---------------------------------------------------------


async def test_an_admins_csv_is_previewed_and_imported_only_on_the_button(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    await send_file(app, telegram, ADMIN, BASE, "crm.csv")
    preview = telegram.last_text(ADMIN.id)
    assert "preview" in preview
    assert "New: 3" in preview
    assert "New segments, created by the import: <b>retail, wholesale</b>" in preview
    assert await records(app) == {}  # nothing before the confirmation
    buttons = telegram.last_buttons(ADMIN.id)
    assert [label for label, _ in buttons] == ["Import", "Cancel"]

    await press(app, ADMIN, buttons[0][1])

    done = telegram.last_text(ADMIN.id)
    assert "New: 3" in done
    found = await records(app)
    assert sorted(found) == ["C-1", "C-2", "C-3"]
    first, third = found["C-1"], found["C-3"]
    assert first is not None
    assert third is not None
    assert json.loads(first.attributes) == {"plan": "pro"}
    assert third.attributes == "{}"
    # A second press of the same button imports nothing more.
    await press(app, ADMIN, buttons[0][1])
    assert "already confirmed" in telegram.of("answerCallbackQuery")[-1].params["text"]
    audited = await services_of(app).db.read(
        lambda conn: fetch_all(
            conn, "SELECT action, subject FROM audit_log WHERE action = 'base.import'"
        )
    )
    assert [tuple(r) for r in audited] == [("base.import", "crm.csv")]


async def test_a_file_with_bad_rows_is_reported_by_line_and_only_the_good_rows_on_request(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    bad = BASE + "C-2,Again,retail,en,\n,No id,retail,nl,\nC-9,Otto,retail,de,\nC-8,,retail,nl,\n"
    await send_file(app, telegram, ADMIN, bad, "crm.csv")
    preview = telegram.last_text(ADMIN.id)
    assert "4 bad rows" in preview
    assert "line 5: C-2 is already on line 3" in preview
    assert "line 6: no external id" in preview
    assert "line 7: the language “de” of C-9 is neither nl nor en" in preview
    assert "line 8: C-8 has no name" in preview
    buttons = telegram.last_buttons(ADMIN.id)
    assert buttons[0][0] == "Import the good rows"
    assert await records(app) == {}

    await press(app, ADMIN, buttons[0][1])
    assert sorted(await records(app)) == ["C-1", "C-2", "C-3"]
    kept = (await records(app))["C-2"]
    assert kept is not None
    assert kept.name == "Harbour Freight"  # the first line wins


async def test_cancel_writes_nothing_and_only_the_sender_can_decide(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    otto = Person(501, "Otto", "en")  # presses a button of a message not his
    await send_file(app, telegram, ADMIN, BASE, "crm.csv")
    cancel = telegram.last_buttons(ADMIN.id)[-1][1]
    await press(app, otto, cancel)
    assert "Only the admin" in telegram.of("answerCallbackQuery")[-1].params["text"]
    await press(app, ADMIN, cancel)
    assert "cancelled" in telegram.last_text(ADMIN.id)
    assert await records(app) == {}
    folder = services_of(app).settings.database_path.with_name("bot.db.imports")
    assert list(folder.iterdir()) == []  # the file is not kept


async def test_a_newer_file_replaces_the_preview_still_waiting(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    await send_file(app, telegram, ADMIN, BASE, "old.csv")
    old_import = telegram.last_buttons(ADMIN.id)[0][1]
    await send_file(app, telegram, ADMIN, BASE, "new.csv")
    await press(app, ADMIN, old_import)
    assert (
        "already confirmed or cancelled" in telegram.of("answerCallbackQuery")[-1].params["text"]
    )
    assert await records(app) == {}
    await press(app, ADMIN, telegram.last_buttons(ADMIN.id)[0][1])
    assert sorted(await records(app)) == ["C-1", "C-2", "C-3"]
    folder = services_of(app).settings.database_path.with_name("bot.db.imports")
    assert list(folder.iterdir()) == []


async def test_a_document_from_a_customer_or_a_non_csv_file_imports_nothing(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    await send_file(app, telegram, BRAM, BASE, "crm.csv")
    assert "tekst" in telegram.last_text(BRAM.id)  # the usual answer to a non-text message
    await send_file(app, telegram, ADMIN, "hello", "notes.pdf")
    assert ".csv" in telegram.last_text(ADMIN.id)
    await send_file(app, telegram, ADMIN, "id;naam\n1;x\n", "crm.csv")
    assert "cannot be imported" in telegram.last_text(ADMIN.id)
    assert "lacks external_id, name, segment, language" in telegram.last_text(ADMIN.id)
    assert await records(app) == {}


async def test_a_customer_missing_from_a_new_file_is_marked_gone_only_with_that_button(
    app: PulseApplication, telegram: FakeTelegram, tmp_path: Path
) -> None:
    await import_directly(app, tmp_path, BASE)
    code = await personal_link(app, telegram, "C-3")
    await consent(app, telegram, CLAIRE, code)
    without_claire = "\n".join(BASE.splitlines()[:3]) + "\n"

    await send_file(app, telegram, ADMIN, without_claire, "crm.csv")
    preview = telegram.last_text(ADMIN.id)
    assert "not in this file (to be marked gone): 1" in preview
    buttons = telegram.last_buttons(ADMIN.id)
    assert [label for label, _ in buttons] == ["Import", "Import, mark 1 gone", "Cancel"]
    await press(app, ADMIN, buttons[0][1])  # import only: Claire stays
    assert "C-3" in await records(app)
    assert "stays as before" in telegram.last_text(ADMIN.id)

    await send_file(app, telegram, ADMIN, without_claire, "crm.csv")
    await press(app, ADMIN, telegram.last_buttons(ADMIN.id)[1][1])
    assert "marked gone" in telegram.last_text(ADMIN.id)
    assert (await records(app))["C-3"] is None  # gone, not deleted
    claire = await services_of(app).db.read(lambda conn: customers.get(conn, CLAIRE.id))
    assert claire.status is CustomerStatus.STOPPED  # no longer sampled

    # Back in a later file: the record and the account it stopped come back.
    await import_directly(app, tmp_path, BASE)
    claire = await services_of(app).db.read(lambda conn: customers.get(conn, CLAIRE.id))
    assert claire.status is CustomerStatus.ACTIVE


# --- personal invite links -------------------------------------------------------------------


async def test_a_personal_link_enrolls_its_customer_once_and_nobody_else(
    app: PulseApplication, telegram: FakeTelegram, tmp_path: Path
) -> None:
    await import_directly(app, tmp_path, BASE)
    code = await personal_link(app, telegram, "C-1")
    assert "Bakkerij de Vries" in telegram.last_text(ADMIN.id)

    await send(app, BRAM, f"/start {code}")
    assert "Pulse" in telegram.last_text(BRAM.id)  # the usual welcome, in Dutch (from the base)
    assert "30 dagen" in telegram.last_text(BRAM.id)
    await press(app, BRAM, telegram.last_buttons(BRAM.id)[0][1])

    def brams(
        conn: sqlite3.Connection,
    ) -> tuple[customers.Customer, customer_base.BaseCustomer | None]:
        return customers.get(conn, BRAM.id), customer_base.find_for_user(conn, BRAM.id)

    bram, record = await services_of(app).db.read(brams)
    assert record is not None
    assert record.external_id == "C-1"
    assert bram.segment_id == record.segment_id  # the base's segment
    assert bram.language == "nl"

    # Forwarded to someone else: polite, and nobody enrolled.
    await send(app, DEAN, f"/start {code}")
    assert "already been used" in telegram.last_text(DEAN.id)
    assert telegram.last_buttons(DEAN.id) == []
    assert await services_of(app).db.read(lambda conn: customers.find(conn, DEAN.id)) is None

    # The right customer a second time: told so, nothing changes.
    await send(app, BRAM, f"/start {code}")
    assert "al gebruikt" in telegram.last_text(BRAM.id)
    assert await services_of(app).db.read(lambda conn: customers.get(conn, BRAM.id)) == bram


async def test_two_people_holding_the_same_consent_question_only_the_first_yes_joins(
    app: PulseApplication, telegram: FakeTelegram, tmp_path: Path
) -> None:
    await import_directly(app, tmp_path, BASE)
    code = await personal_link(app, telegram, "C-2")
    await send(app, CLAIRE, f"/start {code}")
    claires_yes = telegram.last_buttons(CLAIRE.id)[0][1]
    await send(app, DEAN, f"/start {code}")
    deans_yes = telegram.last_buttons(DEAN.id)[0][1]
    await press(app, DEAN, deans_yes)
    await press(app, CLAIRE, claires_yes)
    assert "already been used" in telegram.last_text(CLAIRE.id)
    assert await services_of(app).db.read(lambda conn: customers.find(conn, CLAIRE.id)) is None
    record = await services_of(app).db.read(
        lambda conn: customer_base.find_by_external_id(conn, "C-2")
    )
    assert record is not None
    assert record.user_id == DEAN.id


async def test_an_expired_personal_link_says_so_and_segment_links_still_work(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock, tmp_path: Path
) -> None:
    await import_directly(app, tmp_path, BASE)
    code = await personal_link(app, telegram, "C-2")
    clock._now += timedelta(days=31)
    await send(app, CLAIRE, f"/start {code}")
    assert "expired" in telegram.last_text(CLAIRE.id)
    assert telegram.last_buttons(CLAIRE.id) == []

    segment_code = await invite_code(app, telegram, "retail")
    await consent(app, telegram, DEAN, segment_code)

    def deans(
        conn: sqlite3.Connection,
    ) -> tuple[customers.Customer, customer_base.BaseCustomer | None]:
        return customers.get(conn, DEAN.id), customer_base.find_for_user(conn, DEAN.id)

    dean, record = await services_of(app).db.read(deans)
    assert record is None
    assert dean.status is CustomerStatus.ACTIVE


async def test_invite_for_an_unknown_external_id_is_a_segment_link_as_before(
    app: PulseApplication, telegram: FakeTelegram, tmp_path: Path
) -> None:
    await import_directly(app, tmp_path, BASE)
    await send(app, ADMIN, "/invite retail")
    assert "Invite link for segment <b>retail</b>" in telegram.last_text(ADMIN.id)


# --- joined output and /forget ------------------------------------------------------------------


async def test_mydata_and_export_show_the_external_id_and_forget_unlinks_the_record(
    app: PulseApplication, telegram: FakeTelegram, tmp_path: Path, clock: ManualClock
) -> None:
    from tests.test_checkin import invitation_of, round_now

    await import_directly(app, tmp_path, BASE)
    await consent(app, telegram, BRAM, await personal_link(app, telegram, "C-1"))
    await round_now(app, clock)
    inv = await invitation_of(app, BRAM.id)
    await press(app, BRAM, f"ci:{inv.id}:score:1")
    await send(app, BRAM, "Leveringen komen te laat")
    alert = telegram.last_text(ADMIN.id)
    assert "id C-1" in alert  # the alert names the record staff can look up

    await send(app, BRAM, "/mydata")
    shown = [c for c in telegram.sent(BRAM.id) if "Klantnummer: C-1" in c.params["text"]]
    assert shown
    (document,) = [c for c in telegram.of("sendDocument") if int(c.params["chat_id"]) == BRAM.id]
    stored = json.loads(next(iter(document.files.values()))[1])
    assert stored["customer_record"]["external_id"] == "C-1"

    await send(app, ADMIN, "/export")
    export = [c for c in telegram.of("sendDocument") if int(c.params["chat_id"]) == ADMIN.id]
    rows = list(
        csv.DictReader(io.StringIO(next(iter(export[-1].files.values()))[1].decode("utf-8-sig")))
    )
    assert {row["external_id"] for row in rows} == {"C-1"}

    await send(app, BRAM, "/forget")
    await press(app, BRAM, telegram.last_buttons(BRAM.id)[0][1])

    def left_behind(
        conn: sqlite3.Connection,
    ) -> tuple[customer_base.BaseCustomer | None, list[sqlite3.Row], list[sqlite3.Row]]:
        record = customer_base.find_by_external_id(conn, "C-1")
        used = fetch_all(conn, "SELECT used_at, used_by FROM personal_invites")
        words = fetch_all(conn, "SELECT count(*) FROM answers WHERE value LIKE '%Leveringen%'")
        return record, used, words

    record, used, words = await services_of(app).db.read(left_behind)
    assert record is not None  # the company's record stays
    assert (record.user_id, record.name) == (None, "Bakkerij de Vries")
    assert [(r[0] is not None, r[1]) for r in used] == [(True, None)]
    assert next(iter(words))[0] == 0
