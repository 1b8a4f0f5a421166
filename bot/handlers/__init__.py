"""Telegram handlers, one feature per module; `bot.app.build_application` wires them."""
