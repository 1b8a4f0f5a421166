"""Runs the sandbox on its own: `python -m bot.sandbox --port 8081 [--round-trip-ms 50]`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from bot.sandbox.sandbox import DEFAULT_TOKEN, Sandbox


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Reads the command line."""
    parser = argparse.ArgumentParser(prog="python -m bot.sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081, help="0 picks a free port")
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    parser.add_argument("--round-trip-ms", type=float, default=0.0, help="added to every call")
    parser.add_argument("--rate-limits", action="store_true", help="enforce 30/s and 1/s/chat")
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    """Serves until interrupted."""
    sandbox = Sandbox(
        args.token,
        host=args.host,
        port=args.port,
        enforce_rate_limits=args.rate_limits,
        round_trip_delay=args.round_trip_ms / 1000,
    )
    async with sandbox:
        print(f"Sandbox Bot API at {sandbox.base_url} (token {args.token})", flush=True)
        await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    """Entry point."""
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(parse_args(argv)))


if __name__ == "__main__":
    main()
