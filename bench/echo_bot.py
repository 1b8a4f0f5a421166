"""The bare PTB bot the answer benchmark compares Pulse with: PTB as it comes, echoing text.

`python -m bench.echo_bot <base url, ending in /bot> <token>`: ApplicationBuilder defaults
(one update at a time, no rate limiter), `run_polling`, one `sendMessage` per text message.
"""

from __future__ import annotations

import sys

from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(update.effective_message.text or "")


def main() -> None:
    base_url, token = sys.argv[1], sys.argv[2]
    app = ApplicationBuilder().token(token).base_url(base_url).build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    app.run_polling(allowed_updates=[Update.MESSAGE], poll_interval=0.0, timeout=10)


if __name__ == "__main__":
    main()
