"""A loopback fake of the Telegram Bot API with simulated users, for the demo and end-to-end tests.

See `Sandbox`; faults are described by `Fault` and injected with `Sandbox.inject`.
"""

from sandbox.faults import Fault, Injection, SandboxStats
from sandbox.sandbox import DEFAULT_TOKEN, Sandbox, SandboxNotRunning
from sandbox.server import RecordedRequest
from sandbox.transcript import TranscriptEvent
from sandbox.users import NoMatchingMessage, NoSuchButton, SimChat, SimulationError, SimUser
from sandbox.world import ChatMessage, Person, StoredFile

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
