"""Check-ins: who a round asks, the round itself, enrollment, and the conversation in Telegram."""
