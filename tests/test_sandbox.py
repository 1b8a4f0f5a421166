"""The sandbox speaks the Bot API as Telegram does, checked with PTB's real `Bot` over HTTP."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import aiohttp
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyParameters,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, EndPointNotFound, Forbidden, InvalidToken

from sandbox import Sandbox, SimUser

TOKEN = "123456:SANDBOX-TOKEN"


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
    """A user who has started the bot (their /start is still a pending update)."""
    user = sandbox.user(1001, "Alice", language_code="nl", username="alice")
    await user.send("/start")
    return user


def keyboard(*labels: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=label.lower()) for label in labels]]
    )


async def drain(bot: Bot) -> int:
    """Confirms every pending update; returns the offset that asks only for newer ones."""
    updates = await bot.get_updates()
    if not updates:
        return 0
    offset = updates[-1].update_id + 1
    await bot.get_updates(offset=offset)
    return offset


async def test_get_me_describes_the_bot_from_its_token(bot: Bot) -> None:
    me = await bot.get_me()

    assert (me.id, me.is_bot, me.username) == (123456, True, "pulse_sandbox_bot")


async def test_a_wrong_token_is_unauthorized(sandbox: Sandbox) -> None:
    with pytest.raises(InvalidToken):
        async with Bot("123456:WRONG", base_url=sandbox.base_url):
            pass


async def test_an_unknown_method_is_not_found(bot: Bot) -> None:
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendTelepathy")


async def test_method_names_are_case_insensitive(bot: Bot) -> None:
    me = await bot.do_api_request("GETME")

    assert me["username"] == "pulse_sandbox_bot"


async def test_a_long_poll_returns_a_message_sent_while_it_waits(
    sandbox: Sandbox, bot: Bot
) -> None:
    alice = sandbox.user(1001, "Alice")
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await sandbox.wait_until(lambda: sandbox.count("getUpdates") == 1)

    await alice.send("hello")
    updates = await poll

    assert [u.message.text for u in updates if u.message] == ["hello"]
    assert updates[0].message is not None
    assert updates[0].message.from_user is not None
    assert updates[0].message.from_user.id == 1001


async def test_an_offset_confirms_the_updates_before_it(sandbox: Sandbox, bot: Bot) -> None:
    alice = sandbox.user(1001, "Alice")
    await alice.send("one")
    await alice.send("two")
    first, second = await bot.get_updates()

    again = await bot.get_updates(offset=second.update_id)
    await alice.send("three")
    later = await bot.get_updates(offset=second.update_id + 1)

    assert second.update_id == first.update_id + 1
    assert [u.update_id for u in again] == [second.update_id]
    assert [u.message.text for u in later if u.message] == ["three"]


async def test_a_negative_offset_keeps_only_the_latest_updates(sandbox: Sandbox, bot: Bot) -> None:
    alice = sandbox.user(1001, "Alice")
    for text in ("one", "two", "three"):
        await alice.send(text)

    updates = await bot.get_updates(offset=-1)

    assert [u.message.text for u in updates if u.message] == ["three"]
    assert sandbox.pending_updates == 1


async def test_allowed_updates_filters_updates_created_from_then_on(
    sandbox: Sandbox, bot: Bot, alice: SimUser
) -> None:
    await bot.send_message(alice.id, "Pick", reply_markup=keyboard("Yes"))
    offset = await drain(bot)
    await bot.get_updates(offset=offset, allowed_updates=["callback_query"])

    await alice.send("ignored")
    await alice.press("Yes")
    updates = await bot.get_updates(offset=offset)

    assert [u.callback_query.data for u in updates if u.callback_query] == ["yes"]
    assert not [u for u in updates if u.message]


async def test_an_empty_allowed_updates_list_restores_the_default(
    sandbox: Sandbox, bot: Bot
) -> None:
    alice = sandbox.user(1001, "Alice")
    await bot.get_updates(allowed_updates=["callback_query"])
    await bot.get_updates(allowed_updates=[])

    await alice.send("seen")

    assert [u.message.text for u in await bot.get_updates() if u.message] == ["seen"]


async def test_dropping_pending_updates_forgets_them(sandbox: Sandbox, bot: Bot) -> None:
    await sandbox.user(1001, "Alice").send("old news")

    await bot.delete_webhook(drop_pending_updates=True)

    assert await bot.get_updates() == ()


async def test_bot_cannot_message_a_user_who_never_started_it(sandbox: Sandbox, bot: Bot) -> None:
    sandbox.user(1002, "Bob")

    with pytest.raises(Forbidden, match="bot can't initiate conversation with a user"):
        await bot.send_message(1002, "Hello")


async def test_bot_can_message_a_user_who_started_it(bot: Bot, alice: SimUser) -> None:
    sent = await bot.send_message(alice.id, "Welcome")

    assert alice.last.text == "Welcome"
    assert alice.last.message_id == sent.message_id == 2  # after the user's /start


async def test_bot_cannot_message_a_user_who_blocked_it(bot: Bot, alice: SimUser) -> None:
    await alice.block()

    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(alice.id, "Still there?")


async def test_blocking_and_unblocking_send_my_chat_member_updates(
    bot: Bot, alice: SimUser
) -> None:
    offset = await drain(bot)

    await alice.block()
    await alice.unblock()
    updates = await bot.get_updates(offset=offset)

    changes = [u.my_chat_member for u in updates if u.my_chat_member]
    assert [(c.old_chat_member.status, c.new_chat_member.status) for c in changes] == [
        ("member", "kicked"),
        ("kicked", "member"),
    ]
    assert changes[0].chat.id == alice.id
    assert changes[0].new_chat_member.user.is_bot


async def test_an_unknown_chat_is_not_found(bot: Bot) -> None:
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(4242, "Anyone?")


async def test_text_over_4096_characters_is_refused(bot: Bot, alice: SimUser) -> None:
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(alice.id, "x" * 4097)


async def test_the_length_limit_counts_text_after_html_parsing(bot: Bot, alice: SimUser) -> None:
    await bot.send_message(alice.id, "<b>" + "x" * 4096 + "</b>", parse_mode=ParseMode.HTML)

    assert len(alice.last.text) == 4096


async def test_empty_text_is_refused(bot: Bot, alice: SimUser) -> None:
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(alice.id, "<b> </b>", parse_mode=ParseMode.HTML)


@pytest.mark.parametrize(
    "text",
    [
        "<b>unclosed",
        "1 < 2",
        "Tom & Jerry",
        "line<br>break",
        "<b><i>crossed</b></i>",
        "<span>not a spoiler</span>",
        "stray </b>",
    ],
)
async def test_malformed_html_is_refused(bot: Bot, alice: SimUser, text: str) -> None:
    with pytest.raises(BadRequest, match="Can't parse entities"):
        await bot.send_message(alice.id, text, parse_mode=ParseMode.HTML)


async def test_the_user_sees_html_without_tags(bot: Bot, alice: SimUser) -> None:
    html = '<b>Score</b> &lt;3 &amp; <a href="https://example.com">more</a> &#128578;'

    sent = await bot.send_message(alice.id, html, parse_mode=ParseMode.HTML)

    assert alice.last.text == "Score <3 & more 🙂"
    assert alice.last.html == html
    assert sent.text_html == html.replace("&#128578;", "🙂")


async def test_callback_data_over_64_bytes_is_refused(bot: Bot, alice: SimUser) -> None:
    fits = InlineKeyboardButton("Fits", callback_data="é" * 32)  # 64 bytes in UTF-8
    too_long = InlineKeyboardButton("Too long", callback_data="é" * 32 + "x")
    await bot.send_message(alice.id, "Fine", reply_markup=InlineKeyboardMarkup([[fits]]))

    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(alice.id, "No", reply_markup=InlineKeyboardMarkup([[too_long]]))


async def test_a_press_reaches_the_bot_and_its_answer_reaches_the_user(
    bot: Bot, alice: SimUser
) -> None:
    await bot.send_message(alice.id, "Happy?", reply_markup=keyboard("Yes", "No"))
    offset = await drain(bot)

    await alice.press("No")
    (update,) = await bot.get_updates(offset=offset)
    assert update.callback_query is not None
    await update.callback_query.answer("Noted")

    assert update.callback_query.data == "no"
    assert update.callback_query.from_user.id == alice.id
    assert update.callback_query.message is not None
    assert update.callback_query.message.message_id == alice.last.message_id
    assert alice.callback_answers == ["Noted"]


async def test_answering_a_callback_query_twice_is_refused(bot: Bot, alice: SimUser) -> None:
    await bot.send_message(alice.id, "Happy?", reply_markup=keyboard("Yes"))
    await alice.press("Yes")
    query = next(u.callback_query for u in await bot.get_updates() if u.callback_query)
    await query.answer()

    with pytest.raises(BadRequest, match="Query is too old"):
        await query.answer()
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query("no-such-query")


async def test_editing_text_changes_what_the_user_sees(bot: Bot, alice: SimUser) -> None:
    sent = await bot.send_message(alice.id, "Happy?", reply_markup=keyboard("Yes"))

    edited = await bot.edit_message_text(
        "<i>Thanks</i>", alice.id, sent.message_id, parse_mode=ParseMode.HTML
    )

    assert isinstance(edited, type(sent))
    assert edited.edit_date is not None
    assert (alice.last.text, alice.last.buttons) == ("Thanks", [])
    assert len(alice.messages) == 1


async def test_editing_the_keyboard_changes_the_buttons_the_user_sees(
    bot: Bot, alice: SimUser
) -> None:
    sent = await bot.send_message(alice.id, "Happy?", reply_markup=keyboard("Yes", "No"))

    await bot.edit_message_reply_markup(alice.id, sent.message_id, reply_markup=keyboard("Ok"))

    assert alice.last.buttons == [["Ok"]]
    assert alice.last.text == "Happy?"


async def test_an_edit_that_changes_nothing_is_not_modified(bot: Bot, alice: SimUser) -> None:
    sent = await bot.send_message(
        alice.id, "<b>Same</b>", parse_mode=ParseMode.HTML, reply_markup=keyboard("Yes")
    )

    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text(
            "<b>Same</b>",
            alice.id,
            sent.message_id,
            parse_mode=ParseMode.HTML,
            reply_markup=keyboard("Yes"),
        )
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_reply_markup(
            alice.id, sent.message_id, reply_markup=keyboard("Yes")
        )


async def test_the_bot_cannot_edit_a_users_message(bot: Bot, alice: SimUser) -> None:
    with pytest.raises(BadRequest, match="Message can't be edited"):
        await bot.edit_message_text("Hijacked", alice.id, 1)
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("Nothing", alice.id, 99)


async def test_photos_and_documents_are_uploaded_with_their_bytes(
    bot: Bot, alice: SimUser
) -> None:
    photo = await bot.send_photo(
        alice.id, b"\x89PNG chart", caption="<b>Week 12</b>", parse_mode=ParseMode.HTML
    )
    document = await bot.send_document(alice.id, b"a,b\n1,2\n", filename="answers.csv")

    assert photo.photo[-1].file_size == len(b"\x89PNG chart")
    assert photo.caption == "Week 12"
    assert document.document is not None
    assert document.document.file_name == "answers.csv"
    chart, csv = alice.messages
    assert (chart.kind, chart.caption, chart.file and chart.file.data) == (
        "photo",
        "Week 12",
        b"\x89PNG chart",
    )
    assert (csv.kind, csv.file and csv.file.filename) == ("document", "answers.csv")
    again = await bot.send_photo(alice.id, photo.photo[-1].file_id)
    assert again.photo[-1].file_id == photo.photo[-1].file_id


async def test_a_reply_points_at_the_message_it_answers(bot: Bot, alice: SimUser) -> None:
    sent = await bot.send_message(alice.id, "Noted", reply_parameters=ReplyParameters(1))

    assert sent.reply_to_message is not None
    assert sent.reply_to_message.text == "/start"
    with pytest.raises(BadRequest, match="Message to be replied not found"):
        await bot.send_message(alice.id, "Lost", reply_parameters=ReplyParameters(99))


async def test_command_menus_are_kept_per_scope(
    sandbox: Sandbox, bot: Bot, alice: SimUser
) -> None:
    await bot.set_my_commands([BotCommand("start", "Begin"), BotCommand("help", "Help")])
    await bot.set_my_commands(
        [BotCommand("digest", "Digest now")], scope=BotCommandScopeChat(alice.id)
    )

    assert sandbox.commands() == [("start", "Begin"), ("help", "Help")]
    assert sandbox.commands("chat", chat_id=alice.id) == [("digest", "Digest now")]
    assert alice.commands() == [("digest", "Digest now")]
    assert [c.command for c in await bot.get_my_commands()] == ["start", "help"]

    await bot.delete_my_commands(scope=BotCommandScopeChat(alice.id))
    assert alice.commands() == [("start", "Begin"), ("help", "Help")]


async def test_an_invalid_command_is_refused(bot: Bot) -> None:
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Start!", "Begin")])


async def test_chat_actions_are_accepted(bot: Bot, alice: SimUser) -> None:
    assert await bot.send_chat_action(alice.id, "typing")


async def test_json_bodies_and_query_strings_are_read_too(
    sandbox: Sandbox, alice: SimUser
) -> None:
    url = f"{sandbox.base_url}{TOKEN}"
    markup = {"inline_keyboard": [[{"text": "Ok", "callback_data": "ok"}]]}
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{url}/sendMessage", json={"chat_id": alice.id, "text": "Hi", "reply_markup": markup}
        ) as response:
            sent = await response.json()
        async with session.get(f"{url}/sendMessage?chat_id={alice.id}&text=Again") as response:
            again = await response.json()
        async with session.get(f"{sandbox.base_url}/sendMessage") as response:
            not_found = (response.status, await response.json())

    assert sent["ok"]
    assert sent["result"]["reply_markup"] == markup
    assert again["result"]["text"] == "Again"
    assert [m.buttons for m in alice.messages] == [[["Ok"]], []]
    assert not_found == (404, {"ok": False, "error_code": 404, "description": "Not Found"})


async def test_every_call_is_recorded_with_its_parameters(
    sandbox: Sandbox, bot: Bot, alice: SimUser
) -> None:
    await bot.send_message(alice.id, "Hi", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest):
        await bot.send_message(4242, "Nobody")

    sends = [r for r in sandbox.requests if r.method == "sendMessage"]
    assert [(r.params["chat_id"], r.params["text"], r.ok) for r in sends] == [
        ("1001", "Hi", True),
        ("4242", "Nobody", False),
    ]
    assert sends[1].description == "Bad Request: chat not found"
    assert sandbox.count("sendmessage") == 2


async def test_the_server_does_not_log_request_paths_which_carry_the_token(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="aiohttp")

    async with Sandbox(TOKEN) as sandbox, Bot(TOKEN, base_url=sandbox.base_url) as client:
        await client.get_me()

    assert TOKEN not in caplog.text


async def test_the_transcript_notes_buttons_taken_off_without_repeating_the_message(
    sandbox: Sandbox, bot: Bot, alice: SimUser
) -> None:
    sent = await bot.send_message(
        alice.id, "Hello!\n\nShall we?", reply_markup=keyboard("Yes", "No")
    )
    await bot.edit_message_reply_markup(alice.id, sent.message_id, reply_markup=None)
    await bot.edit_message_text("Hello again!", alice.id, sent.message_id)

    # A changed text is an edit worth reading in full; buttons taken off are a note.
    assert sandbox.format_transcript().splitlines()[-6:] == [
        "bot -> Alice: Hello!",
        "    ",
        "    Shall we?",
        "    [Yes] [No]",
        "bot -> Alice (buttons removed from an earlier message: “Shall we?”)",
        "bot -> Alice (edit): Hello again!",
    ]
