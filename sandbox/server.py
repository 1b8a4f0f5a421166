"""The sandbox's HTTP side: routes `/bot<token>/<method>`, applies delays, faults and flood
limits, and answers in the Bot API's envelope."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from sandbox.errors import ApiError
from sandbox.faults import FaultPlan, RateLimiter, SandboxStats
from sandbox.methods import MESSAGE_METHODS, BotApi, Handler
from sandbox.params import MAX_BODY_BYTES, Params, read_params
from sandbox.waiting import Signal

_ROUTE = re.compile(r"/bot(?P<token>[^/]+)/(?P<method>[A-Za-z0-9_]+)")


@dataclass
class RecordedRequest:
    """One call the bot made: its method, its parameters as sent, and how it was answered."""

    method: str
    params: dict[str, Any]
    status: int = 200
    description: str | None = None
    # When it arrived (time.monotonic), to see how long the bot waited between calls.
    at: float = field(default_factory=time.monotonic)

    @property
    def ok(self) -> bool:
        """Whether the call succeeded."""
        return self.status == 200


class ApiServer:
    """Answers Bot API calls over HTTP for one bot token."""

    def __init__(
        self, token: str, api: BotApi, signal: Signal, clock: Callable[[], float]
    ) -> None:
        self.token = token
        self.api = api
        self.signal = signal
        self.faults = FaultPlan()
        self.limiter = RateLimiter(clock=clock)
        self.enforce_rate_limits = False
        self.round_trip_delay = 0.0
        self.stats = SandboxStats()
        self.requests: list[RecordedRequest] = []

    def build_app(self) -> web.Application:
        """The aiohttp application; every path goes through one handler, as in Telegram."""
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.Response:
        """Answers one HTTP request with the Bot API envelope."""
        route = _ROUTE.fullmatch(request.path)
        if route is None:
            return _reply(ApiError(404, "Not Found").envelope(), 404)
        if route["token"] != self.token:
            return _reply(ApiError(401, "Unauthorized").envelope(), 401)
        found = self.api.find(route["method"])
        try:
            params = await read_params(request)
        except ApiError as error:
            return _reply(error.envelope(), error.status)
        record = RecordedRequest(found[0] if found else route["method"], params.values)
        self.requests.append(record)
        self.stats.requests += 1
        self.signal.notify()  # lets tests wait for a call to arrive, such as a long poll
        try:
            if found is None:
                raise ApiError(404, "Not Found")
            if self.round_trip_delay > 0:
                await asyncio.sleep(self.round_trip_delay)
            result = await self._call(*found, params, request.path)
        except ApiError as error:
            record.status, record.description = error.status, error.description
            if error.page is not None:
                return web.Response(text=error.page, status=error.status, content_type="text/html")
            return _reply(error.envelope(), error.status)
        finally:
            self.signal.notify()  # and for its outcome
        return _reply({"ok": True, "result": result}, 200)

    async def _call(self, method: str, handler: Handler, params: Params, path: str) -> Any:
        chat_id = _chat_id(params)
        fault = self.faults.take(method, chat_id)
        if fault is not None:
            self.stats.faults_injected += 1
            if fault.seconds > 0:
                await asyncio.sleep(fault.seconds)
            refusal = fault.refusal(path)
            if refusal is not None:
                raise refusal
            if fault.result is not None:
                return fault.result
        limited = self.enforce_rate_limits and method.lower() in MESSAGE_METHODS
        if limited:
            try:
                self.limiter.check(chat_id)
            except ApiError:
                self.stats.rate_limited += 1
                raise
        # Handlers other than getUpdates never await, so the check and the record below
        # cannot interleave with another call.
        result = await handler(params)
        if limited:
            self.limiter.record(chat_id)
        return result


def _chat_id(params: Params) -> int | None:
    try:
        return params.integer("chat_id")
    except ApiError:
        return None


def _reply(body: dict[str, Any], status: int) -> web.Response:
    return web.json_response(body, status=status)
