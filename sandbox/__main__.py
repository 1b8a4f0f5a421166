"""Runs the sandbox on its own: `python -m sandbox [--port 8081] [--round-trip-ms 50]`.

In a terminal it also gives a prompt (sandbox.console) to be a customer or an admin:
point `pulsebot run` at the address it prints, and type what they would send.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import threading
from collections.abc import AsyncIterator

from sandbox.console import Console, introduction
from sandbox.sandbox import DEFAULT_TOKEN, Sandbox


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Reads the command line."""
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081, help="0 picks a free port")
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    parser.add_argument("--round-trip-ms", type=float, default=0.0, help="added to every call")
    parser.add_argument("--rate-limits", action="store_true", help="enforce 30/s and 1/s/chat")
    parser.add_argument(
        "--prompt",
        action=argparse.BooleanOptionalAction,
        default=sys.stdin.isatty(),
        help="a prompt to act as simulated users (default: when run in a terminal)",
    )
    return parser.parse_args(argv)


async def stdin_lines(show_prompt: Console | None) -> AsyncIterator[str]:
    """The lines typed (or piped) in, read on a thread of their own so the sandbox keeps
    serving meanwhile; a daemon thread, so Ctrl-C does not wait for a line."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    def read() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(queue.put_nowait, line)
        loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=read, name="sandbox-stdin", daemon=True).start()
    while True:
        if show_prompt is not None:
            print(show_prompt.prompt(), end="", flush=True)
        line = await queue.get()
        if line is None:
            return
        yield line


async def serve(args: argparse.Namespace) -> None:
    """Serves until interrupted, or with the prompt until :quit or the end of the input."""
    sandbox = Sandbox(
        args.token,
        host=args.host,
        port=args.port,
        enforce_rate_limits=args.rate_limits,
        round_trip_delay=args.round_trip_ms / 1000,
    )
    async with sandbox:
        if not args.prompt:
            print("\n".join(introduction(sandbox)), flush=True)
            await asyncio.Event().wait()
        console = Console(sandbox, lambda text: print(text, flush=True))
        console.introduce()
        await console.run(stdin_lines(console if sys.stdin.isatty() else None))


def main(argv: list[str] | None = None) -> None:
    """Entry point."""
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(parse_args(argv)))


if __name__ == "__main__":
    main()
