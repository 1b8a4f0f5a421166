"""A loopback fake of the Telegram Bot API with simulated users, for the demo and end-to-end tests.

See `Sandbox`; faults are described by `Fault` and injected with `Sandbox.inject`.
"""

from bot.sandbox.faults import Fault, Injection, SandboxStats
from bot.sandbox.sandbox import DEFAULT_TOKEN, Sandbox, SandboxNotRunning
from bot.sandbox.server import RecordedRequest
from bot.sandbox.transcript import TranscriptEvent
from bot.sandbox.users import NoMatchingMessage, NoSuchButton, SimChat, SimulationError, SimUser
from bot.sandbox.world import ChatMessage, Person, StoredFile

__all__ = [
    "DEFAULT_TOKEN",
    "ChatMessage",
    "Fault",
    "Injection",
    "NoMatchingMessage",
    "NoSuchButton",
    "Person",
    "RecordedRequest",
    "Sandbox",
    "SandboxNotRunning",
    "SandboxStats",
    "SimChat",
    "SimUser",
    "SimulationError",
    "StoredFile",
    "TranscriptEvent",
]
