"""Who is on the team: staff and admins added and removed by admins, and one-time team
invite links. Every change is audited in the transaction that makes it.

The configured admins (PULSE_ADMIN_IDS) are admins whatever the database says; only the
configuration can change that, so no command removes them.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from storage import audit, followup_messages, people, team, team_invites
from storage.customers import Profile
from storage.db import REPEATED, Database
from storage.people import KnownPerson
from storage.team import Role, TeamMember
from storage.team_invites import TeamInvite

INVITE_VALID = timedelta(days=7)


class NotKnown(LookupError):
    """Nobody who started the bot has that user id or handle."""


class AmbiguousHandle(LookupError):
    """More than one person Pulse knows has had that handle: the user id is needed."""


class ConfiguredAdmin(ValueError):
    """A configured admin (PULSE_ADMIN_IDS): an admin always, changed only in the configuration."""


class AlreadyInRole(ValueError):
    """The person already has that role, or a higher one."""

    def __init__(self, person: KnownPerson, role: Role) -> None:
        super().__init__(person.user_id, role)
        self.person = person
        self.role = role


class NotInRole(LookupError):
    """The person does not have the role the command would take away (`actual` is theirs)."""

    def __init__(self, person: KnownPerson, actual: Role | None) -> None:
        super().__init__(person.user_id, actual)
        self.person = person
        self.actual = actual


@dataclass(frozen=True)
class RoleChange:
    """Someone's role before and after a command (None: not on the team)."""

    person: KnownPerson
    old: Role | None
    new: Role | None


@dataclass(frozen=True)
class Member:
    """A team member as /staff and /admin list them."""

    user_id: int
    role: Role
    name: str | None
    username: str | None
    configured: bool
    added_at: int | None


class JoinOutcome(StrEnum):
    JOINED = "joined"
    ALREADY = "already"
    USED = "used"
    EXPIRED = "expired"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Joined:
    """What opening a team invite link did."""

    outcome: JoinOutcome
    role: Role | None = None


def describe(person: KnownPerson) -> str:
    """A person as the audit log and replies name them: name, @handle and id."""
    parts = [person.name or "", f"@{person.username}" if person.username else ""]
    label = " ".join(part for part in parts if part)
    return f"{label} ({person.user_id})" if label else str(person.user_id)


def _resolve(conn: sqlite3.Connection, ref: int | str) -> KnownPerson:
    if isinstance(ref, int):
        found = people.find_by_id(conn, ref)
        if found is None:
            raise NotKnown(ref)
        return found
    matches = people.find_by_username(conn, ref)
    if not matches:
        raise NotKnown(ref)
    if len(matches) > 1:
        raise AmbiguousHandle(ref)
    return matches[0]


def _record(
    conn: sqlite3.Connection, action: str, change: RoleChange, *, actor_id: int, now: int
) -> None:
    audit.record(
        conn,
        at=now,
        actor_id=actor_id,
        action=action,
        subject=describe(change.person),
        old_value=change.old.value if change.old else None,
        new_value=change.new.value if change.new else None,
    )


def _changeable(
    conn: sqlite3.Connection, configured: tuple[int, ...], ref: int | str
) -> tuple[KnownPerson, Role | None]:
    """The person `ref` names and their role now; raises for a configured admin, whose
    role only PULSE_ADMIN_IDS decides."""
    if ref in configured:
        raise ConfiguredAdmin(ref)
    person = _resolve(conn, ref)
    if person.user_id in configured:
        raise ConfiguredAdmin(person.user_id)
    member = team.find(conn, person.user_id)
    return person, member.role if member else None


async def add(
    db: Database,
    configured: tuple[int, ...],
    ref: int | str,
    role: Role,
    *,
    actor_id: int,
    now: int,
) -> RoleChange | None:
    """Makes someone staff or admin (staff may be promoted to admin, never demoted here).

    None when an earlier handling of the same update already did it.
    """

    def add_member(conn: sqlite3.Connection) -> RoleChange:
        # A refusal raises and rolls the claim back with it.
        person, current = _changeable(conn, configured, ref)
        if current is Role.ADMIN or current is role:
            raise AlreadyInRole(person, current)
        team.put(
            conn,
            TeamMember(
                user_id=person.user_id,
                role=role,
                name=person.name,
                username=person.username,
                language=person.language,
                added_by=actor_id,
                added_at=now,
            ),
        )
        change = RoleChange(person, current, role)
        _record(conn, "team.add", change, actor_id=actor_id, now=now)
        return change

    done = await db.write_once(add_member)
    return None if done is REPEATED else done


async def remove(
    db: Database,
    configured: tuple[int, ...],
    ref: int | str,
    role: Role,
    *,
    actor_id: int,
    now: int,
) -> RoleChange | None:
    """Takes someone who has exactly `role` off the team.

    None when an earlier handling of the same update already did it.
    """

    def remove_member(conn: sqlite3.Connection) -> RoleChange:
        # A refusal raises and rolls the claim back with it.
        person, current = _changeable(conn, configured, ref)
        if current is not role:
            raise NotInRole(person, current)
        team.remove(conn, person.user_id)
        # A reply they were writing to a customer must not go out after they left.
        followup_messages.drop_draft(conn, person.user_id)
        change = RoleChange(person, current, None)
        _record(conn, "team.remove", change, actor_id=actor_id, now=now)
        return change

    done = await db.write_once(remove_member)
    return None if done is REPEATED else done


async def members(db: Database, configured: tuple[int, ...]) -> list[Member]:
    """The configured admins, then the admins and staff added by command."""

    def team_and_configured(
        conn: sqlite3.Connection,
    ) -> tuple[list[TeamMember], dict[int, KnownPerson | None]]:
        added = team.list_all(conn)
        found = {user_id: people.find_by_id(conn, user_id) for user_id in configured}
        return added, found

    added, found = await db.read(team_and_configured)
    listed: list[Member] = []
    for user_id in configured:
        person = found[user_id]
        name, username = (person.name, person.username) if person else (None, None)
        listed.append(Member(user_id, Role.ADMIN, name, username, True, None))
    listed += [
        Member(m.user_id, m.role, m.name, m.username, False, m.added_at)
        for m in added
        if m.user_id not in configured
    ]
    return listed


async def create_invite(db: Database, *, actor_id: int, now: int) -> TeamInvite | None:
    """A new one-time staff invite; None when an earlier handling already made one."""
    expires_at = now + int(INVITE_VALID.total_seconds())

    def create_and_audit(conn: sqlite3.Connection) -> TeamInvite:
        invite = team_invites.create(
            conn, Role.STAFF, created_by=actor_id, now=now, expires_at=expires_at
        )
        audit.record(
            conn,
            at=now,
            actor_id=actor_id,
            action="team.invite",
            subject=Role.STAFF.value,
            new_value=f"expires {expires_at}",
        )
        return invite

    done = await db.write_once(create_and_audit)
    return None if done is REPEATED else done


async def join(
    db: Database,
    configured: tuple[int, ...],
    code: str,
    profile: Profile,
    *,
    language: str,
    now: int,
) -> Joined:
    """Uses a team invite: its opener joins the team, unless the link is used or expired."""
    if profile.user_id in configured:
        return Joined(JoinOutcome.ALREADY, Role.ADMIN)

    def use(conn: sqlite3.Connection) -> Joined:
        invite = team_invites.find(conn, code)
        if invite is None:
            return Joined(JoinOutcome.UNKNOWN)
        member = team.find(conn, profile.user_id)
        if invite.used_by == profile.user_id and member is not None:
            return Joined(JoinOutcome.JOINED, member.role)  # handled before a restart
        if invite.used_by is not None:
            return Joined(JoinOutcome.USED)
        if invite.expires_at <= now:
            return Joined(JoinOutcome.EXPIRED)
        if member is not None and (member.role is Role.ADMIN or member.role is invite.role):
            return Joined(JoinOutcome.ALREADY, member.role)
        team_invites.mark_used(conn, code, user_id=profile.user_id, now=now)
        person = KnownPerson(profile.user_id, profile.first_name, profile.username, language)
        team.put(
            conn,
            TeamMember(
                user_id=profile.user_id,
                role=invite.role,
                name=profile.first_name,
                username=profile.username,
                language=language,
                added_by=invite.created_by,
                added_at=now,
            ),
        )
        change = RoleChange(person, member.role if member else None, invite.role)
        _record(conn, "team.join", change, actor_id=profile.user_id, now=now)
        return Joined(JoinOutcome.JOINED, invite.role)

    return await db.write(use)
