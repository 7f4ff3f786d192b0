"""Admin commands: grant and revoke roles, list staff, read the audit log."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes, filters

from bot.access import PRIVILEGED, Access
from bot.handlers import who
from bot.journey import Journey, Who
from conversations.catalog import catalog
from conversations.render import Send
from storage.repository import ROLES, AuditEntry, Role

Context = ContextTypes.DEFAULT_TYPE
Command = Callable[[Who, list[str], Context], Awaitable[None]]
AUDIT_SHOWN = 20


class StaffHandlers:
    """Privileged commands; anyone without the role gets the participant experience."""

    def __init__(self, access: Access, journey: Journey) -> None:
        self.access = access
        self.journey = journey
        self.words = catalog("en")

    def install(self, app: Application) -> None:  # type: ignore[type-arg]
        """Add the admin commands; call before the participant handlers."""
        private = filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE
        for name, command in (
            ("grant", self.grant),
            ("revoke", self.revoke),
            ("staff", self.staff),
            ("audit", self.audit),
        ):
            handler = guarded(self.access, self.journey, name, command)
            app.add_handler(CommandHandler(name, handler, filters=private))

    async def grant(self, person: Who, args: list[str], context: Context) -> None:
        """Give a user a role: /grant USER_ID ROLE."""
        parsed = self._target(args)
        if parsed is None:
            await self._reply(person, self._usage("grant"))
            return
        user_id, role = parsed
        code = self.access.codes.code(user_id)
        audit = await self.access.entry(person.user_id, "grant", f"{user_id} {role}, code {code}")
        new = await self.access.repository.grant_role(user_id, role, person.user_id, audit)
        if new:
            await self.access.refresh_menu(context.bot, user_id)
        key = "granted" if new else "already_granted"
        await self._reply(person, self.words(key, user=user_id, role=role))

    async def revoke(self, person: Who, args: list[str], context: Context) -> None:
        """Take a role away: /revoke USER_ID ROLE."""
        parsed = self._target(args)
        if parsed is None:
            await self._reply(person, self._usage("revoke"))
            return
        user_id, role = parsed
        code = self.access.codes.code(user_id)
        audit = await self.access.entry(person.user_id, "revoke", f"{user_id} {role}, code {code}")
        removed = await self.access.repository.revoke_role(user_id, role, audit)
        if removed:
            await self.access.refresh_menu(context.bot, user_id)
        key = "revoked" if removed else "not_granted"
        await self._reply(person, self.words(key, user=user_id, role=role))

    async def staff(self, person: Who, args: list[str], context: Context) -> None:
        """List everyone with a role."""
        roles = await self.access.repository.staff_roles()
        admins = ", ".join(str(a) for a in sorted(self.access.admins)) or "none"
        if not roles:
            await self._reply(person, self.words("staff_none", admins=admins))
            return
        lines = [self.words("staff_heading", admins=admins)]
        lines += [
            self.words(
                "staff_line",
                user=r.user_id,
                role=r.role,
                by=r.granted_by,
                date=r.granted_at.date().isoformat(),
            )
            for r in roles
        ]
        await self._reply(person, "\n".join(lines))

    async def audit(self, person: Who, args: list[str], context: Context) -> None:
        """Show the newest audit entries."""
        await self.access.record(person.user_id, "audit", "viewed the audit log")
        await self._reply(
            person, audit_text(await self.access.repository.audit_entries(AUDIT_SHOWN))
        )

    def _target(self, args: list[str]) -> tuple[int, Role] | None:
        if len(args) != 2 or not args[0].isdecimal() or len(args[0]) > 20:
            return None
        role = next((r for r in ROLES if r == args[1].lower()), None)
        return None if role is None else (int(args[0]), role)

    def _usage(self, command: str) -> str:
        return self.words("grant_usage", command=command, roles=", ".join(ROLES))

    async def _reply(self, person: Who, text: str) -> None:
        await self.journey.sender.deliver(person.chat_id, [_send(text)], None)


def guarded(
    access: Access, journey: Journey, name: str, command: Command
) -> Callable[[Update, Context], Coroutine[Any, Any, None]]:
    """Run a privileged command for those whose role allows it; others meet the participant bot."""

    async def handle(update: Update, context: Context) -> None:
        person = who(update)
        if person is None:
            return
        if not await access.allows(person.user_id, PRIVILEGED[name][0]):
            await access.refused(person.user_id, name)
            await journey.say(person, "unknown_command")
            return
        await command(person, list(context.args or []), context)

    return handle


def audit_text(entries: list[AuditEntry]) -> str:
    """Return audit entries as lines a person can read."""
    words = catalog("en")
    if not entries:
        return words("audit_none")
    lines = [words("audit_heading", count=len(entries))]
    lines += [
        words(
            "audit_line",
            at=e.at.strftime("%Y-%m-%d %H:%M"),
            actor=e.actor,
            action=e.action,
            detail=e.detail,
        )
        for e in entries
    ]
    return "\n".join(lines)


def _send(text: str) -> Send:
    return Send(text[:4096])
