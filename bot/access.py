"""Who may do what: admins from settings, staff roles from the database, and the audit log."""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand, BotCommandScopeChat
from telegram.error import TelegramError

from bot.clock import Clock
from bot.staff_codes import StaffCodes
from conversations.catalog import catalog
from storage.audit import Audit
from storage.repository import Repository

log = logging.getLogger(__name__)

ADMIN = "admin"
# Privileged commands, the role each needs, and its menu description key, in menu order.
PRIVILEGED: dict[str, tuple[str, str]] = {
    "grant": (ADMIN, "menu_grant"),
    "revoke": (ADMIN, "menu_revoke"),
    "staff": (ADMIN, "menu_staff"),
    "audit": (ADMIN, "menu_audit"),
    "newround": ("coordinator", "menu_newround"),
    "rounds": ("coordinator", "menu_rounds"),
    "round": ("coordinator", "menu_round"),
    "feedback": ("coordinator", "menu_feedback"),
    "export": ("staff", "menu_export"),
    "report": ("staff", "menu_report"),
    "flags": ("safeguarding", "menu_flags"),
    "note": ("safeguarding", "menu_note"),
    "reply": ("safeguarding", "menu_reply"),
}
# The participant menu, shown to everyone (command, description key).
PARTICIPANT_MENU = [
    ("start", "menu_start"),
    ("skip", "menu_skip"),
    ("back", "menu_back"),
    ("pause", "menu_pause"),
    ("help", "menu_help"),
    ("settings", "menu_settings"),
    ("mydata", "menu_mydata"),
    ("delete", "menu_delete"),
    ("stop", "menu_stop"),
]


def participant_commands(language: str = "en") -> list[BotCommand]:
    """Return the command menu everyone sees."""
    words = catalog(language)
    return [BotCommand(command, words(key)) for command, key in PARTICIPANT_MENU]


class Access:
    """Answer "may this user do that?", and write every privileged act to the audit log."""

    def __init__(
        self,
        repository: Repository,
        admins: tuple[int, ...],
        clock: Clock,
        codes: StaffCodes | None = None,
    ) -> None:
        self.repository = repository
        self.admins = frozenset(admins)
        self.clock = clock
        # Without a key kept beside the database, codes hold for this process only.
        self.codes = codes or StaffCodes.ephemeral()

    async def roles(self, user_id: int) -> set[str]:
        """Return every role a user holds now (admins are coordinators too)."""
        roles: set[str] = set(await self.repository.roles_of(user_id))
        if user_id in self.admins:
            roles |= {ADMIN, "coordinator"}
        return roles

    async def allows(self, user_id: int, role: str) -> bool:
        """Say whether a user holds a role."""
        return role in await self.roles(user_id)

    async def record(self, user_id: int, action: str, detail: str = "") -> None:
        """Write a privileged act that changed nothing else (a view) to the audit log."""
        entry = await self.entry(user_id, action, detail)
        await self.repository.audit(entry.actor, entry.action, entry.detail, entry.at)

    async def entry(self, user_id: int, action: str, detail: str = "") -> Audit:
        """Make the audit entry for a privileged write, to be stored in the write's transaction."""
        return Audit(await self.actor(user_id), action, detail, self.clock.now())

    async def refused(self, user_id: int, command: str, where: str = "private chat") -> None:
        """Audit an attempt at a command the user may not use there, naming who tried."""
        tried = await self.who_tried(user_id)
        await self.repository.audit(tried, "refused", f"/{command} in a {where}", self.clock.now())

    async def who_tried(self, user_id: int) -> str:
        """Name someone refused: a participant by their code, anyone else by their staff code.

        Never by Telegram id or name. Someone whose role was revoked keeps the staff code the
        grant and revoke entries gave them, so the audit log shows who it was.
        """
        if user_id not in self.admins and not await self.repository.roles_of(user_id):
            contact = await self.repository.contact_for_user(user_id)
            if contact is not None:
                return contact.participant.code
        return self.codes.code(user_id)

    async def actor(self, user_id: int) -> str:
        """Name a user for the audit log: staff by id, participants only by their code."""
        if user_id in self.admins or await self.repository.roles_of(user_id):
            return f"staff:{user_id}"
        contact = await self.repository.contact_for_user(user_id)
        return contact.participant.code if contact else "not a participant"

    async def commands_for(self, user_id: int, language: str = "en") -> list[BotCommand]:
        """Return the menu for a user: the participant commands plus those their roles allow."""
        words = catalog(language)
        roles = await self.roles(user_id)
        extra = [
            BotCommand(command, words(key))
            for command, (role, key) in PRIVILEGED.items()
            if role in roles
        ]
        return participant_commands(language) + extra

    async def refresh_menu(self, bot: Bot, user_id: int) -> None:
        """Show a user the menu their roles allow, in their private chat."""
        scope = BotCommandScopeChat(user_id)
        commands = await self.commands_for(user_id)
        try:
            if len(commands) > len(PARTICIPANT_MENU):
                await bot.set_my_commands(commands, scope=scope)
            else:
                await bot.delete_my_commands(scope=scope)
        except TelegramError as error:
            # A user who never opened a chat with the bot has no chat to scope a menu to yet.
            log.info("could not set a staff menu: %s", error)

    async def refresh_all_menus(self, bot: Bot) -> None:
        """Set the menu of every admin and member of staff (at start-up)."""
        users = set(self.admins) | {role.user_id for role in await self.repository.staff_roles()}
        for user_id in sorted(users):
            await self.refresh_menu(bot, user_id)
