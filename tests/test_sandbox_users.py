"""Simulated users write, press and read as real ones do, and a real PTB bot can serve them."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ParseMode
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from sandbox import NoMatchingMessage, NoSuchButton, Sandbox, SimulationError, SimUser

TOKEN = "123456:SANDBOX-TOKEN"
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox(TOKEN, "pulse_sandbox_bot") as running:
        yield running


@pytest.fixture
async def bot(sandbox: Sandbox) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=sandbox.base_url) as client:
        yield client


@pytest.fixture
async def alice(sandbox: Sandbox) -> SimUser:
    user = sandbox.user(1001, "Alice", language_code="nl", username="alice")
    await user.send("/start")
    return user


def buttons(*labels: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=label.lower()) for label in labels]]
    )


async def test_a_command_carries_a_bot_command_entity(sandbox: Sandbox, bot: Bot) -> None:
    await sandbox.user(1001, "Alice").send("/start invite-42")

    (update,) = await bot.get_updates()

    assert update.message is not None
    assert update.message.text == "/start invite-42"
    assert [(e.type, e.offset, e.length) for e in update.message.entities] == [
        ("bot_command", 0, 6)
    ]


async def test_a_user_can_edit_their_last_message(sandbox: Sandbox, bot: Bot) -> None:
    alice = sandbox.user(1001, "Alice")
    sent = await alice.send("my challnge")

    await alice.edit_last("my challenge")
    updates = await bot.get_updates()

    edited = [u.edited_message for u in updates if u.edited_message]
    assert [(m.message_id, m.text) for m in edited] == [(sent.message_id, "my challenge")]


async def test_photos_and_stickers_from_users_arrive_as_such(sandbox: Sandbox, bot: Bot) -> None:
    alice = sandbox.user(1001, "Alice")
    await alice.send_photo(caption="my desk")
    await alice.send_sticker("🎉")

    photo, sticker = [u.message for u in await bot.get_updates() if u.message]

    assert photo.photo
    assert photo.caption == "my desk"
    assert sticker.sticker is not None
    assert sticker.sticker.emoji == "🎉"


async def test_a_group_message_reaches_the_bot_with_the_group_chat(
    sandbox: Sandbox, bot: Bot
) -> None:
    staff = sandbox.group(-100123, "Staff")
    bob = sandbox.user(1002, "Bob")

    await staff.send(bob, "/digest@pulse_sandbox_bot")
    (update,) = await bot.get_updates()
    await bot.send_message(staff.id, "Digest coming up")

    assert update.message is not None
    assert (update.message.chat.type, update.message.chat.title) == ("supergroup", "Staff")
    assert update.message.entities[0].length == len("/digest@pulse_sandbox_bot")
    assert staff.last.text == "Digest coming up"
    assert bob.messages == []


async def test_pressing_a_missing_button_names_what_the_user_sees(
    bot: Bot, alice: SimUser
) -> None:
    await bot.send_message(alice.id, "Happy?", reply_markup=buttons("Yes", "No"))

    with pytest.raises(NoSuchButton, match=r"(?s)'Maybe'.*Happy\?.*\['Yes', 'No'\]"):
        await alice.press("Maybe")


async def test_a_link_button_cannot_be_pressed_as_a_callback(bot: Bot, alice: SimUser) -> None:
    link = InlineKeyboardButton("Docs", url="https://example.com")
    await bot.send_message(alice.id, "Read", reply_markup=InlineKeyboardMarkup([[link]]))

    with pytest.raises(SimulationError, match="does not call back"):
        await alice.press("Docs")


async def test_a_reply_keyboard_button_sends_its_label(
    sandbox: Sandbox, bot: Bot, alice: SimUser
) -> None:
    keyboard = ReplyKeyboardMarkup([[KeyboardButton("English"), KeyboardButton("Nederlands")]])
    await bot.send_message(alice.id, "Language?", reply_markup=keyboard)
    await alice.press("Nederlands")
    await bot.send_message(alice.id, "Done", reply_markup=ReplyKeyboardRemove())

    texts = [u.message.text for u in await bot.get_updates() if u.message]
    assert texts == ["/start", "Nederlands"]
    with pytest.raises(NoSuchButton):
        await alice.press("English")


async def test_wait_for_looks_only_at_messages_since_the_users_last_action(
    bot: Bot, alice: SimUser
) -> None:
    await bot.send_message(alice.id, "How are things?")
    await alice.send("Fine")
    await bot.send_message(alice.id, "How are things?")

    latest = await alice.wait_for(lambda m: m.text == "How are things?")
    earliest = await alice.wait_for(lambda m: "things" in m.text, since_last_action=False)

    assert (earliest.message_id, latest.message_id) == (2, 4)


async def test_wait_for_sees_an_edit(bot: Bot, alice: SimUser) -> None:
    sent = await bot.send_message(alice.id, "Happy?", reply_markup=buttons("Yes"))
    await alice.press("Yes")

    waiting = asyncio.create_task(alice.wait_for(lambda m: m.text == "Thanks!"))
    await bot.edit_message_text("Thanks!", alice.id, sent.message_id)

    assert (await waiting).message_id == sent.message_id


async def test_wait_for_times_out_listing_the_users_latest_messages(
    bot: Bot, alice: SimUser
) -> None:
    await bot.send_message(alice.id, "Hello there", reply_markup=buttons("Hi"))

    with pytest.raises(NoMatchingMessage, match=r"(?s)Alice.*Hello there.*\['Hi'\]") as waited:
        await alice.wait_for(lambda m: "goodbye" in m.text, timeout=0.05)
    assert isinstance(waited.value, TimeoutError)


async def test_last_without_messages_is_a_clear_error(sandbox: Sandbox) -> None:
    with pytest.raises(SimulationError, match="Bob has received no messages"):
        _ = sandbox.user(1002, "Bob").last


async def test_a_deleted_message_disappears_for_the_user(bot: Bot, alice: SimUser) -> None:
    sent = await bot.send_message(alice.id, "Oops")

    await bot.delete_message(alice.id, sent.message_id)

    assert alice.messages == []


async def test_wait_idle_returns_once_the_bot_confirmed_every_update(
    sandbox: Sandbox, bot: Bot, alice: SimUser
) -> None:
    (update,) = await bot.get_updates()
    assert sandbox.pending_updates == 1

    await bot.get_updates(offset=update.update_id + 1)
    await sandbox.wait_idle(timeout=1)

    assert sandbox.pending_updates == 0


async def test_the_transcript_reads_as_a_conversation(
    sandbox: Sandbox, bot: Bot, alice: SimUser
) -> None:
    sent = await bot.send_message(
        alice.id, "<b>How are things?</b>", parse_mode=ParseMode.HTML, reply_markup=buttons("Good")
    )
    await alice.press("Good")
    query = next(u.callback_query for u in await bot.get_updates() if u.callback_query)
    await query.answer("Saved")
    await bot.edit_message_text("Thanks!", alice.id, sent.message_id)
    await alice.block()

    assert sandbox.format_transcript() == "\n".join(
        [
            "Alice -> bot: /start",
            "bot -> Alice: How are things?",
            "    [Good]",
            "Alice -> bot (press): Good",
            "bot -> Alice (popup): Saved",
            "bot -> Alice (edit): Thanks!",
            "Alice -> bot (block): blocked the bot",
        ]
    )


async def show_welcome(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greets the user and asks how things are."""
    assert update.effective_message is not None
    await update.effective_message.reply_html(
        "<b>Welcome!</b> How are things?", reply_markup=buttons("Good", "Bad")
    )


async def receive_score(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Thanks the user for the score in place of the question."""
    query = update.callback_query
    assert query is not None
    await query.answer("Saved")
    await query.edit_message_text(f"Thanks, noted: {query.data}")


async def test_a_real_application_serves_a_simulated_user(sandbox: Sandbox) -> None:
    app = Application.builder().token(TOKEN).base_url(sandbox.base_url).build()
    app.add_handler(CommandHandler("start", show_welcome))
    app.add_handler(CallbackQueryHandler(receive_score))
    alice = sandbox.user(1001, "Alice")

    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling()
        try:
            await alice.send("/start")
            welcome = await alice.wait_for(lambda m: "Welcome" in m.text)
            offered = welcome.buttons  # the edit below replaces them
            await alice.press("Good")
            thanks = await alice.wait_for(lambda m: m.text.startswith("Thanks"))
            await sandbox.wait_until(lambda: alice.callback_answers)
        finally:
            await app.updater.stop()
            await app.stop()

    assert offered == [["Good", "Bad"]]
    assert thanks is welcome
    assert (thanks.text, thanks.buttons) == ("Thanks, noted: good", [])
    assert alice.callback_answers == ["Saved"]


async def test_the_sandbox_runs_as_a_standalone_server() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "sandbox", "--port", "0", "--token", TOKEN, "--no-prompt",
        cwd=REPO, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        async with asyncio.timeout(20):
            line = (await process.stdout.readline()).decode()
        server = line.split()[4]
        async with Bot(TOKEN, base_url=f"{server}/bot") as client:
            assert client.username == "pulse_sandbox_bot"
    finally:
        process.terminate()
        await process.wait()
