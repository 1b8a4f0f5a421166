"""`build_application()`: the one place Pulse's handlers, resources and jobs are wired."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.catalog import Catalog
from bot.checkins import enrollment, wording
from bot.checkins import handlers as checkin
from bot.clock import Clock, SystemClock
from bot.commands import COMMANDS
from bot.common import fallbacks
from bot.common.context import BotData, PulseApplication, PulseContext, Services
from bot.customer_base import handlers as customer_base
from bot.digest import embedding
from bot.digest.answer_vectors import AnswerVectors
from bot.digest.embedding import Embedder
from bot.digest.sending import run_due_digest
from bot.followups import alerts
from bot.followups import handlers as followups
from bot.privacy import commands as controls
from bot.running.errors import error_handler
from bot.running.inbox import CONCURRENCY, UpdatePipeline
from bot.running.scheduling import ask_again, run_due_round, schedule_jobs
from bot.sending import retries
from bot.sending.delivery import CONCURRENCY as SENDER_CONCURRENCY
from bot.sending.delivery import Sender, apply_send_limits
from bot.sending.outbound import OutboundLimiter
from bot.sending.transport import AiohttpRequest, ApiContact
from bot.settings import Settings
from bot.team import commands as admin_team
from bot.team import gatekeeping, menus
from bot.tell import commands as tell
from bot.tell.updates import TellSender
from conversations.checkin import PRESS_DATA
from conversations.checkin_service import CheckinService
from conversations.enrollment import CONSENT_DATA, LANGUAGE_DATA, STOP_DATA
from conversations.enrollment_service import EnrollmentService
from storage import invitation_delivery, runtime_settings
from storage.db import Database
from storage.runtime_settings import RuntimeSettings

log = logging.getLogger(__name__)

# The update types Pulse handles; `my_chat_member` tells us when a customer blocks the bot.
ALLOWED_UPDATES = [
    Update.MESSAGE,
    Update.EDITED_MESSAGE,
    Update.CALLBACK_QUERY,
    Update.MY_CHAT_MEMBER,
]


def build_application(
    settings: Settings,
    clock: Clock | None = None,
    request: BaseRequest | None = None,
    outbound: OutboundLimiter | None = None,
    embedder: Embedder | None = None,
) -> PulseApplication:
    """The Pulse bot: PTB's Application with every handler registered, ready to run.

    `request` replaces the HTTP transport to the Bot API (tests pass a fake one);
    `outbound` the pacing of messages (Telegram's limits by default); `embedder` the
    sentence model of the themes (one per process by default, loaded at first use).
    """
    catalog = Catalog.load()
    context_types = ContextTypes(context=PulseContext, bot_data=BotData)
    builder = ApplicationBuilder()
    if request is not None:
        builder = builder.request(request)
    else:
        # One connection per concurrent update, plus the bulk sender's; an oversized pool
        # was measured to be slower, not faster. getUpdates has a connection of its own.
        # One record of Telegram's answers for both, which /healthz reads.
        contact = ApiContact()
        builder = builder.request(
            AiohttpRequest(CONCURRENCY + SENDER_CONCURRENCY, contact=contact)
        )
        builder = builder.get_updates_request(AiohttpRequest(1, contact=contact))
    app: PulseApplication = (
        # No PTB Updater: bot.running.inbox polls, records each update before confirming it.
        builder.updater(None)
        .rate_limiter(outbound or OutboundLimiter())
        .token(settings.bot_token.get_secret_value())
        .base_url(settings.api_base_url)
        .base_file_url(settings.file_base_url)
        .defaults(Defaults(parse_mode=ParseMode.HTML))
        .context_types(context_types)
        .post_init(
            _open_services(
                settings, catalog, clock or SystemClock(), embedder or embedding.shared()
            )
        )
        .post_shutdown(_close_services)
        .build()
    )
    private = filters.ChatType.PRIVATE
    # Group -3: an update without a sender reaches nothing; every handler after it may
    # rely on update.effective_user and update.effective_chat.
    app.add_handler(TypeHandler(Update, gatekeeping.ignore_senderless), -3)
    # Group -2 decides whether an update reaches Pulse at all. Order matters inside a
    # group: the first matching handler wins, and ApplicationHandlerStop ends the update.
    app.add_handler(MessageHandler(filters.UpdateType.EDITED, gatekeeping.ignore_update), -2)
    app.add_handler(
        MessageHandler(~private & ~filters.StatusUpdate.ALL, gatekeeping.refuse_group_chat), -2
    )
    # PTB skips a CallbackQueryHandler's pattern when the press has no data, so the first
    # pattern handler would take it: it is answered and stopped here instead.
    app.add_handler(CallbackQueryHandler(gatekeeping.answer_empty_press), -2)
    # Group -1: team commands stop here unless the sender's role allows them.
    app.add_handler(MessageHandler(filters.COMMAND & private, gatekeeping.check_team_command), -1)

    # A team invite link's /start before the customers' (its code never looks like theirs).
    app.add_handler(
        CommandHandler(
            "start", admin_team.join_team_command, private & filters.Regex(admin_team.JOIN_PATTERN)
        )
    )
    # Every command in the table, one handler per name; for team commands group -1 has
    # already let through only the roles allowed.
    for name in COMMANDS.names():
        app.add_handler(CommandHandler(name, COMMANDS.handler(name), private))
    app.add_handler(CallbackQueryHandler(enrollment.consent_button, CONSENT_DATA))
    app.add_handler(CallbackQueryHandler(enrollment.stop_button, STOP_DATA))
    app.add_handler(CallbackQueryHandler(enrollment.language_button, LANGUAGE_DATA))
    app.add_handler(CallbackQueryHandler(checkin.checkin_button, PRESS_DATA))
    app.add_handler(CallbackQueryHandler(controls.pause_button, controls.PAUSE_DATA))
    app.add_handler(CallbackQueryHandler(controls.frequency_button, controls.FREQUENCY_DATA))
    app.add_handler(CallbackQueryHandler(controls.forget_button, controls.FORGET_DATA))
    app.add_handler(CallbackQueryHandler(tell.tell_button, tell.TELL_DATA))
    app.add_handler(CallbackQueryHandler(followups.followup_button, followups.FOLLOWUP_DATA))
    app.add_handler(CallbackQueryHandler(customer_base.import_button, customer_base.IMPORT_DATA))
    app.add_handler(
        ChatMemberHandler(enrollment.membership_changed, ChatMemberHandler.MY_CHAT_MEMBER)
    )
    app.add_handler(MessageHandler(filters.COMMAND & private, fallbacks.unknown_command))
    app.add_handler(MessageHandler(filters.TEXT & private, checkin.text_message))
    # An admin's CSV is a customer base to import; anyone else's file is answered as below.
    app.add_handler(MessageHandler(private & filters.Document.ALL, customer_base.document_message))
    app.add_handler(
        MessageHandler(
            private & ~filters.TEXT & ~filters.StatusUpdate.ALL, fallbacks.non_text_message
        )
    )
    # Last: a press no handler above recognised (an old message's buttons) is still
    # answered, or the customer's button spins until Telegram gives up.
    app.add_handler(CallbackQueryHandler(fallbacks.unknown_button))
    app.add_error_handler(error_handler)
    return app


def _open_services(
    settings: Settings, catalog: Catalog, clock: Clock, embedder: Embedder
) -> Callable[[PulseApplication], Coroutine[Any, Any, None]]:
    async def post_init(app: PulseApplication) -> None:
        db = await Database.open(settings.database_path)
        app.bot_data.services = Services(
            settings=settings,
            db=db,
            catalog=catalog,
            clock=clock,
            enrollment=EnrollmentService(db),
            checkin=CheckinService(db),
            sender=Sender(db, app.bot, catalog, clock, settings.zone),
            tells=TellSender(db, app.bot, catalog, clock, settings.zone),
            vectors=AnswerVectors(db, embedder),
            commands=COMMANDS,
            reschedule=lambda: schedule_jobs(app),
        )

        def requeue_and_load(conn: sqlite3.Connection) -> tuple[int, RuntimeSettings]:
            return invitation_delivery.requeue_interrupted(conn), runtime_settings.load(conn)

        interrupted, config = await db.write(requeue_and_load)
        apply_send_limits(app.bot, config)
        if interrupted:
            # Claimed for sending when the process stopped: Telegram may have accepted
            # some of these in the instant before, so a few customers may get it twice.
            log.warning("%d invitation(s) interrupted mid-send are queued again", interrupted)
        await wording.load(db, catalog)
        # Answers given while the bot was down, or before the model could load.
        app.bot_data.services.vectors.nudge(app.bot_data.services.spawn)
        await menus.publish(app.bot, app.bot_data.services, app.job_queue)
        # Before polling: the questions committed but not sent when the process stopped.
        await ask_again(app.bot_data.services)
        await schedule_jobs(app)
        alerts.schedule_upkeep(app)
        assert app.job_queue is not None
        app.job_queue.run_once(_catch_up, when=0, name="checkin:catch-up")
        log.info("Pulse is running as @%s", app.bot.username)

    return post_init


async def _catch_up(context: PulseContext) -> None:
    """At start-up: the round and the digest missed while the bot was down, then whatever
    is due."""
    await run_due_round(context.services)
    await context.services.sender.drain()
    await run_due_digest(context.services)


async def _stop_sending(app: PulseApplication) -> None:
    # Before shutdown closes the bot's HTTP client: sends in flight finish, no new ones start.
    services = app.bot_data.services
    if services is not None:
        await services.abandon()
        await services.sender.close()
        await services.tells.close()


async def _close_services(app: PulseApplication) -> None:
    services = app.bot_data.services
    if services is not None:
        await services.abandon()
        await services.sender.close()
        await services.tells.close()
        await services.db.close()
        app.bot_data.services = None


@asynccontextmanager
async def running(
    app: PulseApplication,
    poll_timeout: int = 10,
    *,
    poll: bool = True,
    before_updates: Callable[[PulseApplication], Awaitable[None]] | None = None,
    **tuning: int,
) -> AsyncIterator[UpdatePipeline]:
    """Runs the bot inside the current event loop: `pulsebot run`, the demo and the tests.

    The same steps as `Application.run_polling`, with the durable update pipeline in place
    of PTB's Updater (and so usable beside a sandbox served from the same loop). Without
    `poll` the updates come by webhook (`UpdatePipeline.receive`); `before_updates` runs
    once the services are open, before the first update is taken.
    """
    # getMe again: the same tries as the preflight, in case Telegram hiccups in between.
    try:
        await retries.with_retries(app.initialize, retries.STARTUP, what="getMe")
    except BaseException:
        # The bot's HTTP sessions are open by the time getMe fails; Application.shutdown
        # would not close them (the application never finished initialising).
        await app.bot.shutdown()
        raise
    try:
        if app.post_init is not None:
            await app.post_init(app)
        services = app.bot_data.services
        assert services is not None
        pipeline = UpdatePipeline(
            app,
            services.db,
            services.clock,
            allowed_updates=ALLOWED_UPDATES,
            poll_timeout=poll_timeout,
            **tuning,  # concurrency and backlog, for tests and benchmarks
        )
        if before_updates is not None:
            await before_updates(app)
        await app.start()
        await pipeline.start(poll=poll)
        try:
            yield pipeline
        finally:
            try:
                await pipeline.stop()
                await _stop_sending(app)
            finally:
                await app.stop()
    finally:
        await app.shutdown()
        if app.post_shutdown is not None:
            await app.post_shutdown(app)
