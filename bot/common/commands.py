"""What a command is to the bot: its name, who may use it, its handler and an example that
works. The table itself is `bot.commands.COMMANDS`, above every feature since it names their
handlers; menus, /help and gatekeeping read it here, through `Services.commands`, so that
who may use what is written once.

A name may appear twice: /pause and /resume are a customer's own (their check-ins) and an
admin's (the whole programme), one handler that tells the two apart by role.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from storage.team import Role

if TYPE_CHECKING:
    from telegram import Update


class Who(StrEnum):
    """Who a command is for."""

    EVERYONE = "everyone"  # customers and the team alike
    CUSTOMER = "customer"  # customers only: a team member's command of that name is the team's
    STAFF = "staff"  # staff and admins: it shows customer data
    ADMIN = "admin"  # admins: it changes the programme

    def admits(self, role: Role | None) -> bool:
        """Whether a person of `role` (None: a customer or stranger) may use it."""
        if self is Who.EVERYONE:
            return True
        if self is Who.CUSTOMER:
            return role is None
        if self is Who.STAFF:
            return role is not None
        return role is Role.ADMIN


# A PTB callback; its context is Pulse's `PulseContext`, which stands on this module.
Handler = Callable[["Update", Any], Coroutine[Any, Any, None]]


@dataclass(frozen=True)
class Command:
    """One command as one audience sees it. Its menu and /help line is the catalogs'
    `commands.<name>` (`customer_commands.<name>` first for a customer's), its arguments
    `command_args.<name>`."""

    name: str
    who: Who
    handler: Handler
    # What the permission tests send: an invocation that would change something if it
    # were let through to someone it is not for.
    example: str = ""

    @property
    def team(self) -> bool:
        return self.who in (Who.STAFF, Who.ADMIN)


class CommandTable:
    """The commands in menu order: the customers' first, then the team's."""

    def __init__(self, commands: Iterable[Command]) -> None:
        self.commands = tuple(commands)

    def names(self) -> list[str]:
        """Every command name, once, in table order (what is registered)."""
        return list(dict.fromkeys(command.name for command in self.commands))

    def handler(self, name: str) -> Handler:
        """The handler of `name` (one per name, whoever uses it)."""
        return next(command.handler for command in self.commands if command.name == name)

    def gatekept(self, name: str) -> bool:
        """Whether gatekeeping checks `name` before its handler: a team command."""
        return any(command.team for command in self.commands if command.name == name)

    def allows(self, name: str, role: Role | None) -> bool:
        """Whether a person of `role` may use `name`."""
        return any(command.who.admits(role) for command in self.commands if command.name == name)

    def customer_menu(self) -> list[str]:
        """A customer's commands, in menu order."""
        return [c.name for c in self.commands if not c.team and c.who.admits(None)]

    def team_commands(self, role: Role) -> list[str]:
        """The team commands a role may use, in menu order."""
        return [c.name for c in self.commands if c.team and c.who.admits(role)]

    def team_menu(self, role: Role) -> list[str]:
        """A team member's menu: the commands for everyone, then the team's for `role`."""
        everyone = [c.name for c in self.commands if c.who is Who.EVERYONE]
        return everyone + self.team_commands(role)
