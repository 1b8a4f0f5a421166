"""/staff and /admin: list, add and remove team members; /staff invite makes a one-time
link, and opening it (/start team-…) joins the team. Menus follow every role change; a
team member's /start greets them as one."""

from __future__ import annotations

from telegram import Update

from bot.catalog import Html
from bot.common import segment_names
from bot.common.admin_chat import AdminChat, admin_chat
from bot.common.context import PulseContext
from bot.common.parsing import InvalidArgument, WrongUsage, parse_person
from bot.common.profiles import sender
from bot.team import members as team
from bot.team import menus
from conversations.enrollment import CODE_PATTERN
from storage import segments
from storage.team import Role
from storage.team_invites import PREFIX

# What /start carries from a team invite link: "team-" and 32 URL-safe characters.
JOIN_PATTERN = rf"^/start(?:@\w+)?\s+{PREFIX}[A-Za-z0-9_-]{{32}}\s*$"


def _person_text(chat: AdminChat, member: team.Member) -> Html:
    name = member.name or chat.text("team.no_name")
    handle = f" @{member.username}" if member.username else ""
    key = "team.member_configured" if member.configured else "team.member"
    return chat.text(key, name=name, handle=handle, user_id=member.user_id)


async def _list(chat: AdminChat, role: Role) -> None:
    services = chat.services
    everyone = await team.members(services.db, services.settings.admin_ids)
    listed = [m for m in everyone if m.role is role]
    lines = [chat.text(f"team.{role.value}_title", count=len(listed))]
    lines += [_person_text(chat, member) for member in listed]
    if not listed:
        lines.append(chat.text("team.none"))
    lines.append(chat.text(f"team.{role.value}_hint"))
    await chat.send("\n".join(lines))


async def _add_or_remove(chat: AdminChat, role: Role, verb: str, args: list[str]) -> None:
    services = chat.services
    command = role.value
    try:
        ref = parse_person(args)
        operation = team.add if verb == "add" else team.remove
        change = await operation(
            services.db,
            services.settings.admin_ids,
            ref,
            role,
            actor_id=chat.user_id,
            now=services.now(),
        )
    except WrongUsage:
        await chat.usage(command)
        return
    except InvalidArgument as exc:
        await chat.refuse(exc, command)
        return
    except team.NotKnown:
        await chat.say("team.not_known", who=" ".join(args))
        return
    except team.AmbiguousHandle:
        await chat.say("team.ambiguous", who=" ".join(args))
        return
    except team.ConfiguredAdmin:
        await chat.say("team.configured", who=" ".join(args))
        return
    except team.AlreadyInRole as exc:
        await chat.say(
            f"team.already_{exc.role.value}", who=team.describe(exc.person), command=command
        )
        return
    except team.NotInRole as exc:
        key = "team.not_on_team" if exc.actual is None else f"team.is_{exc.actual.value}"
        await chat.say(key, who=team.describe(exc.person), command=command)
        return
    if change is None:
        await chat.say("admin.already_done")
        return
    if not await menus.refresh(chat.context.bot, services, change.person.user_id, change.new):
        menus.retry_later(chat.context.job_queue)
    old = chat.text(f"team.role_{change.old.value if change.old else 'none'}")
    new = chat.text(f"team.role_{change.new.value if change.new else 'none'}")
    await chat.say("team.changed", who=team.describe(change.person), old=old, new=new)


async def _invite(chat: AdminChat) -> None:
    services = chat.services
    invite = await team.create_invite(services.db, actor_id=chat.user_id, now=services.now())
    if invite is None:
        await chat.say("admin.already_done")
        return
    link = f"https://t.me/{chat.context.bot.username}?start={invite.code}"
    days = int(team.INVITE_VALID.total_seconds() // 86400)
    await chat.say("team.invite_link", link=link, days=days)


async def _team_command(update: Update, context: PulseContext, role: Role) -> None:
    chat = await admin_chat(update, context)
    args = list(context.args or [])
    verb = args[0].lower() if args else "list"
    if verb == "list" and len(args) <= 1:
        await _list(chat, role)
    elif verb in ("add", "remove"):
        await _add_or_remove(chat, role, verb, args[1:])
    elif verb == "invite" and role is Role.STAFF and len(args) == 1:
        await _invite(chat)
    else:
        await chat.usage(role.value)


async def staff_command(update: Update, context: PulseContext) -> None:
    """Lists staff, adds or removes one, or makes a one-time staff invite link."""
    await _team_command(update, context, Role.STAFF)


async def admin_command(update: Update, context: PulseContext) -> None:
    """Lists admins, or adds or removes one (the configured admins stay)."""
    await _team_command(update, context, Role.ADMIN)


async def join_team_command(update: Update, context: PulseContext) -> None:
    """Makes whoever opens a one-time team invite link a team member."""
    services = context.services
    profile, telegram_language = sender(update)
    language = await services.enrollment.language_of(profile.user_id, telegram_language)
    code = (context.args or [""])[0]
    joined = await team.join(
        services.db,
        services.settings.admin_ids,
        code,
        profile,
        language=language,
        now=services.now(),
    )
    if joined.outcome is team.JoinOutcome.JOINED and not await menus.refresh(
        context.bot, services, profile.user_id, joined.role
    ):
        menus.retry_later(context.job_queue)
    role = services.catalog.text(
        language, f"team.role_{joined.role.value if joined.role else 'none'}"
    )
    text = services.catalog.text(language, f"team.join_{joined.outcome.value}", role=role)
    await context.bot.send_message(profile.chat_id, text)


async def greet_team_member(update: Update, context: PulseContext, role: Role) -> None:
    """A team member's /start: what Pulse does, what to do first and their commands, instead
    of the customers' consent question (with an invite link, whose link it is)."""
    chat = await admin_chat(update, context)
    code = context.args[0] if context.args else ""
    link = ""
    if CODE_PATTERN.match(code):
        segment = await chat.services.db.read(lambda conn: segments.find_by_code(conn, code))
        if segment is not None:
            shown = segment_names.shown(chat.catalog, chat.language, segment.name)
            link = chat.text("team.welcome_link", segment=shown)
    user = update.effective_user
    await chat.say(
        f"team.welcome_{role.value}",
        name=user.first_name if user else "",
        link=Html(link),
        commands=Html(menus.team_help(chat.services, chat.language, role)),
    )
