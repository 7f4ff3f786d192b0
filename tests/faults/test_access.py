"""Access: every privileged command and button, tried by a participant and by the wrong role.

The surface is read from the code: the commands and the role each needs from
`bot.access.PRIVILEGED` (which also builds the per-role menus), the buttons from the callback
formats and the actions the handlers accept. Meta-tests compare both with the handlers the
composition root really installs, so a new privileged command or button fails here until it
is covered.

Every attempt must be refused (the reply is the participant experience: the sentence for an
unknown command, or for a stale button), audited as "refused", change nothing in the database,
send nothing anywhere else and return no data. One bot serves the whole module, so the file
stays fast: each test compares what happened after its own mark.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

import bot.app as composition
from bot.access import ADMIN, PARTICIPANT_MENU, PRIVILEGED, Access
from bot.exports.export import FORMATS
from bot.exports.scope import EVERYTHING
from bot.rounds import feedback
from bot.rounds.coordinator import SURE, CoordinatorHandlers
from bot.rounds.newround import DRAFT
from bot.safeguarding.review import OUTCOMES
from conversations.callbacks import ExportButton, FlagButton, RoundButton, decode
from conversations.catalog import catalog
from storage.repository import ROLES
from tests.bot.conftest import ADMIN_ID, SAFEGUARDING_CHAT
from tests.support.bot_harness import SAMPLE_FLOWS, FixedClock, InProcessBot, bot_settings
from tests.support.chat_user import ChatUser
from tests.support.coordinating import joined, member, opened, stored_round
from tests.support.database import rows
from tests.support.fake_telegram import BotMessage, FakeTelegram

pytestmark = [pytest.mark.faults, pytest.mark.asyncio(loop_scope="module")]

WORDS = catalog("en")
PARTICIPANT = "participant"
# Who tries: a participant with no role, one holder of each role, and an admin (from settings).
ACTOR_IDS: dict[str, int] = {
    PARTICIPANT: 5001,
    **{role: 5002 + n for n, role in enumerate(ROLES)},
    ADMIN: ADMIN_ID,
}
# The roles each actor holds, as bot.access.Access grants them (checked against it below).
ACTOR_ROLES: dict[str, frozenset[str]] = {
    PARTICIPANT: frozenset(),
    **{role: frozenset({role}) for role in ROLES},
    ADMIN: frozenset({ADMIN, "coordinator"}),
}
# Whoever holds a role tries it from the wrong place (a group) in the group tests.
HOLDER: dict[str, str] = {ADMIN: ADMIN, **{role: role for role in ROLES}}
FLAGGED = 5101  # a participant who wrote words of risk: their flag must stay unseen
REVOKED = 5201  # a coordinator who loses the role mid-way through /newround
STRANGER = 5301  # someone new, to compare the participant experience with
GROUP = -100555
RISK = "I feel like a burden to everyone"
TITLE = "Winter services"
# Commands that only exist for someone part-way through a coordinator's draft.
DRAFT_ONLY = frozenset({"cancel"})
PRIVILEGED_BUTTONS = (ExportButton, FlagButton, RoundButton)
# Bot API methods a refusal may use: anything else (a file, a photo, an edit) is data.
QUIET_METHODS = frozenset({"getUpdates", "sendMessage", "answerCallbackQuery"})


def wrong_actors(role: str) -> list[str]:
    """Return the actors who do not hold a role."""
    return [actor for actor, held in ACTOR_ROLES.items() if role not in held]


@dataclass
class World:
    """The running bot, its users, and what a refusal must never show."""

    fake: FakeTelegram
    heard: InProcessBot
    database: Path
    app: Application
    users: dict[str, ChatUser] = field(default_factory=dict)
    round_id: int = 0
    flag_id: int = 0
    codes: dict[int, str] = field(default_factory=dict)
    unknown: dict[str, str] = field(default_factory=dict)
    secrets: list[str] = field(default_factory=list)

    @property
    def coordinator(self) -> CoordinatorHandlers:
        """Return the installed coordinator handlers (their drafts live in memory)."""
        for handler in self.app.handlers[0]:
            owner = getattr(handler.callback, "__self__", None)
            if isinstance(owner, CoordinatorHandlers):
                return owner
        raise AssertionError("no coordinator handlers installed")

    @property
    def access(self) -> Access:
        """Return the bot's access service."""
        return self.coordinator.access

    def user(self, user_id: int) -> ChatUser:
        """Return a user in a private chat with the bot."""
        return ChatUser(self.fake, user_id, settle=self.heard.settle)

    def actor_name(self, actor: str) -> str:
        """Return how the audit log names someone refused: a participant by their code, else
        by their staff code (never by Telegram id)."""
        user_id = ACTOR_IDS[actor]
        return self.codes[user_id] if actor == PARTICIPANT else self.access.codes.code(user_id)

    async def in_group(self, user_id: int, text: str, chat_id: int) -> None:
        """Send a message in a group chat and wait until the bot has handled it."""
        await self.heard.settle(
            self.fake.send_text(user_id, text, chat_id=chat_id, chat_type="group")
        )


def state(database: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Return every table the bot keeps, except the audit log (a refusal must add to it)."""
    tables = [
        name
        for (name,) in rows(database, "SELECT name FROM sqlite_master WHERE type = 'table'")
        if name not in ("audit_log", "schema_migrations") and not name.startswith("sqlite_")
    ]
    return {name: rows(database, f"SELECT * FROM {name} ORDER BY rowid") for name in tables}


def shown(message: BotMessage) -> tuple[Any, ...]:
    return (message.message_id, message.text, message.reply_markup, message.deleted)


@dataclass
class Mark:
    """What the world looked like just before an attempt."""

    calls: int
    audit: int
    state: dict[str, list[tuple[Any, ...]]]
    chats: dict[int, list[tuple[Any, ...]]]


def mark(world: World, *chats: int) -> Mark:
    [(audit,)] = rows(world.database, "SELECT coalesce(max(id), 0) FROM audit_log")
    return Mark(
        calls=len(world.fake.calls),
        audit=audit,
        state=state(world.database),
        chats={chat: [shown(m) for m in world.fake.chat_messages(chat)] for chat in chats},
    )


def assert_refused(
    world: World,
    before: Mark,
    *,
    chat: int,
    actor: str,
    detail: str,
    replies: tuple[str, ...],
) -> None:
    """Check one refused attempt: audited once, nothing changed, no data, only `replies` said."""
    audited = rows(
        world.database, "SELECT actor, action, detail FROM audit_log WHERE id > ?", (before.audit,)
    )
    assert audited == [(actor, "refused", detail)]
    assert state(world.database) == before.state, "a refused attempt changed the database"

    calls = world.fake.calls[before.calls :]
    used = {call.method for call in calls}
    assert used <= QUIET_METHODS, f"a refusal called {used - QUIET_METHODS}"
    elsewhere = [c for c in calls if "chat_id" in c.params and c.params["chat_id"] != chat]
    assert elsewhere == [], "a refused attempt sent something to another chat"
    for call in calls:
        if call.method == "answerCallbackQuery":
            assert not call.params.get("text"), "the button's answer said something"

    messages = world.fake.chat_messages(chat)
    old = before.chats[chat]
    assert [shown(m) for m in messages[: len(old)]] == old, "an earlier message was changed"
    new = messages[len(old) :]
    assert [m.text for m in new] == list(replies)
    for message in new:
        assert message.document is None
        assert message.photo is None
        for button in message.inline_buttons():
            pressed = decode(button.get("callback_data", ""))
            assert not isinstance(pressed, PRIVILEGED_BUTTONS), f"a refusal offered {button}"
        for secret in world.secrets:
            assert secret not in (message.text or ""), f"the reply gave away {secret!r}"
    for user_id in ACTOR_IDS.values():
        assert world.coordinator.drafts.get(user_id) is None, "a refusal started a draft"


# --- the world --------------------------------------------------------------------------------


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    """Run one bot with a finished participant, a flag, an open round and every role."""
    folder = tmp_path_factory.mktemp("access")
    flows = folder / "flows"
    flows.mkdir()
    shutil.copy(SAMPLE_FLOWS / "sample.yaml", flows / "sample.yaml")
    database = folder / "heard.db"
    fake = FakeTelegram(token="123456:TEST-token-0123456789abcdefghij")
    await fake.start()
    clock = FixedClock()
    settings = bot_settings(
        fake,
        database,
        flows,
        "sample",
        heard_admins=(ADMIN_ID,),
        heard_safeguarding_chat=SAFEGUARDING_CHAT,
    )
    heard = InProcessBot(settings, clock)
    built: list[Application] = []
    original = composition.build_application

    def capture(*args: Any, **kwargs: Any) -> Application:
        app = original(*args, **kwargs)
        built.append(app)
        return app

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(composition, "build_application", capture)
        await heard.start(fake)
    try:
        world = World(fake, heard, database, built[0])
        # The safeguarding chat exists (it gets the alert), and a group has heard from the bot.
        await world.in_group(8001, "hi", SAFEGUARDING_CHAT)
        await world.in_group(8002, "hi", GROUP)

        flagged = world.user(FLAGGED)
        await joined(flagged)
        await flagged.press("No")
        await flagged.send(RISK)
        participant = await member(world.user(ACTOR_IDS[PARTICIPANT]))
        world.round_id = await stored_round(database, clock.now(), TITLE)
        await opened(database, clock.now())
        [(world.flag_id,)] = rows(database, "SELECT id FROM flags")

        admin = world.user(ADMIN_ID)
        world.users = {PARTICIPANT: participant, ADMIN: admin}
        for role in ROLES:
            holder = world.user(ACTOR_IDS[role])
            await holder.send("/help")
            await admin.send(f"/grant {holder.user_id} {role}")
            world.users[role] = holder
        for actor, person in world.users.items():
            await person.send("/nosuchcommand")
            world.unknown[actor] = person.last_text()

        world.codes = {
            user_id: code
            for user_id, code in rows(
                database, "SELECT telegram_user_id, participant_code FROM identities"
            )
        }
        staff_ids = [str(user_id) for user_id in ACTOR_IDS.values()]
        world.secrets = [
            TITLE,
            f"R{world.round_id}",
            "burden",
            f"F-{world.flag_id}",
            "Eligible",
            *world.codes.values(),
            *staff_ids,
        ]
        yield world
    finally:
        await heard.stop()
        await fake.stop()


# --- what is privileged -----------------------------------------------------------------------


def _missing(actor: str) -> str:
    """Return a role the actor does not hold (for a /grant to themselves)."""
    return next((role for role in ROLES if role not in ACTOR_ROLES[actor]), ROLES[0])


# Real-looking arguments for each privileged command, so a refusal is for the role and not
# for the words. A new privileged command fails the meta-test until it is given some here.
ARGUMENTS: dict[str, Callable[[World, str], str]] = {
    "grant": lambda w, actor: f"{ACTOR_IDS[actor]} {_missing(actor)}",
    "revoke": lambda w, actor: f"{ACTOR_IDS['staff']} staff",
    "staff": lambda w, actor: "",
    "audit": lambda w, actor: "",
    "newround": lambda w, actor: "",
    "rounds": lambda w, actor: "",
    "round": lambda w, actor: f"R{w.round_id}",
    "feedback": lambda w, actor: str(w.round_id),
    "export": lambda w, actor: "",
    "report": lambda w, actor: f"R{w.round_id}",
    "flags": lambda w, actor: "",
    "note": lambda w, actor: f"F-{w.flag_id} Nothing to worry about",
    "reply": lambda w, actor: f"{w.codes[FLAGGED]} Hello from the charity",
}


def command_text(world: World, name: str, actor: str) -> str:
    """Return the command as the actor types it, with its arguments."""
    return f"/{name} {ARGUMENTS[name](world, actor)}".strip()


@dataclass(frozen=True)
class Forged:
    """A privileged button's callback data, forged with real ids from the world."""

    name: str
    role: str
    command: str  # the command the audit log names for it
    data: Callable[[World], str]
    kind: type

    def encode(self, world: World) -> str:
        return self.data(world)


def _round(action: str, command: str) -> Forged:
    return Forged(
        f"round-{action}",
        "coordinator",
        command,
        lambda w: RoundButton(w.round_id, action).encode(),
        RoundButton,
    )


def _draft(action: str) -> Forged:
    return Forged(
        f"newround-{action}",
        "coordinator",
        "newround",
        lambda w: RoundButton(DRAFT, action).encode(),
        RoundButton,
    )


def _export(scope: Callable[[World], str], fmt: str, label: str) -> Forged:
    return Forged(
        f"export-{label}-{fmt or 'ask'}",
        "staff",
        "export",
        lambda w: ExportButton(scope(w), fmt).encode(),
        ExportButton,
    )


def _flag(outcome: str) -> Forged:
    return Forged(
        f"flag-{outcome}",
        "safeguarding",
        "flags",
        lambda w: FlagButton(w.flag_id, outcome).encode(),
        FlagButton,
    )


BUTTONS: list[Forged] = [
    *[_round(action, "round") for action in [*SURE, *SURE.values(), "back"]],
    *[_round(action, "feedback") for action in feedback.ACTIONS],
    *[_draft(action) for action in ("flow1", "now", "everyone", "save", "stop")],
    _export(lambda w: EVERYTHING, "", "everything"),
    *[_export(lambda w: f"R{w.round_id}", fmt, "round") for fmt in FORMATS],
    _export(lambda w: "sample", "csv", "flow"),
    *[_flag(outcome) for outcome in OUTCOMES],
]
BUTTON_DETAIL = {"flags": "/flags (outcome button)"}

COMMAND_CASES = [
    pytest.param(name, actor, id=f"{name}-by-{actor}")
    for name, (role, _) in PRIVILEGED.items()
    for actor in wrong_actors(role)
]
BUTTON_CASES = [
    pytest.param(button, actor, id=f"{button.name}-by-{actor}")
    for button in BUTTONS
    for actor in wrong_actors(button.role)
]
WHERE = ((GROUP, "group"), (SAFEGUARDING_CHAT, "safeguarding-chat"))
GROUP_BUTTON_CASES = [
    pytest.param(button, chat, id=f"{button.name}-in-{where}")
    for button in BUTTONS
    for chat, where in WHERE
]
# Outside a private chat a button is audited under the command of its kind.
BUTTON_FAMILY = {ExportButton: "export", FlagButton: "flags", RoundButton: "round"}
GROUP_CASES = [
    pytest.param(name, chat, id=f"{name}-in-{where}")
    for name in PRIVILEGED
    for chat, where in WHERE
]


def installed(world: World) -> tuple[set[str], list[re.Pattern[str]]]:
    """Return the commands and the button patterns the running bot has handlers for."""
    commands: set[str] = set()
    patterns: list[re.Pattern[str]] = []
    for handlers in world.app.handlers.values():
        for handler in handlers:
            if isinstance(handler, CommandHandler):
                commands |= set(handler.commands)
            elif isinstance(handler, CallbackQueryHandler) and isinstance(
                handler.pattern, str | re.Pattern
            ):
                patterns.append(re.compile(handler.pattern))
    return commands, patterns


async def test_access_every_privileged_command_is_covered(world):
    commands, _ = installed(world)
    participant = {command for command, _ in PARTICIPANT_MENU}
    others = commands - participant - DRAFT_ONLY
    assert others == set(PRIVILEGED), "PRIVILEGED and the installed commands differ"
    assert set(ARGUMENTS) == set(PRIVILEGED), "give the new command arguments in ARGUMENTS"
    for name, (role, _) in PRIVILEGED.items():
        assert role in {ADMIN, *ROLES}
        assert wrong_actors(role), f"nobody tries /{name} without its role"
        assert PARTICIPANT in wrong_actors(role)


async def test_access_every_privileged_button_is_covered(world):
    _, patterns = installed(world)
    # The participant's own buttons go to one catch-all handler without a pattern; every
    # handler with a pattern is a privileged one.
    assert patterns, "no privileged button handlers found"
    for pattern in patterns:
        forged = [b.name for b in BUTTONS if pattern.match(b.encode(world))]
        assert forged, f"no forged button for the handler of {pattern.pattern!r}"
    for button in BUTTONS:
        data = button.encode(world)
        assert sum(1 for p in patterns if p.match(data)) == 1, data
        assert isinstance(decode(data), button.kind), f"{data!r} would fail as malformed"


async def test_access_actors_hold_the_roles_the_cases_assume(world):
    for actor, user_id in ACTOR_IDS.items():
        assert await world.access.roles(user_id) == set(ACTOR_ROLES[actor])
        menu = {c.command for c in await world.access.commands_for(user_id)}
        tried = {name for name, (role, _) in PRIVILEGED.items() if role not in ACTOR_ROLES[actor]}
        assert not menu & tried, f"the {actor}'s menu offers a command they are refused"
    assert rows(world.database, "SELECT status FROM rounds WHERE id = ?", (world.round_id,)) == [
        ("open",)
    ]
    assert rows(world.database, "SELECT outcome FROM flags") == [(None,)]


# --- in a private chat, without the role ------------------------------------------------------


@pytest.mark.parametrize(("name", "actor"), COMMAND_CASES)
async def test_access_command_is_refused_to_the_wrong_role(world, name, actor):
    person = world.users[actor]
    before = mark(world, person.chat_id)
    await person.send(command_text(world, name, actor))
    assert_refused(
        world,
        before,
        chat=person.chat_id,
        actor=world.actor_name(actor),
        detail=f"/{name} in a private chat",
        replies=(world.unknown[actor],),
    )
    assert world.unknown[actor] == WORDS("unknown_command")


@pytest.mark.parametrize(("button", "actor"), BUTTON_CASES)
async def test_access_button_is_refused_to_the_wrong_role(world, button, actor):
    person = world.users[actor]
    before = mark(world, person.chat_id)
    await person.press_data(person.messages()[-1].message_id, button.encode(world))
    detail = BUTTON_DETAIL.get(button.command, f"/{button.command} (button)")
    assert_refused(
        world,
        before,
        chat=person.chat_id,
        actor=world.actor_name(actor),
        detail=f"{detail} in a private chat",
        replies=(WORDS("stale"),),
    )


# --- with the role, but in a group ------------------------------------------------------------


@pytest.mark.parametrize(("name", "chat"), GROUP_CASES)
async def test_access_command_in_a_group_is_refused_even_with_the_role(world, name, chat):
    role = PRIVILEGED[name][0]
    actor = HOLDER[role]
    person = world.users[actor]
    before = mark(world, chat, person.chat_id)
    await world.in_group(person.user_id, command_text(world, name, actor), chat)
    # The group was told once (at set-up) that the bot works in private chats only.
    assert_refused(
        world,
        before,
        chat=chat,
        actor=world.actor_name(actor),
        detail=f"/{name} in a group chat",
        replies=(),
    )
    assert [shown(m) for m in world.fake.chat_messages(person.chat_id)] == before.chats[
        person.chat_id
    ]


@pytest.mark.parametrize(("button", "chat"), GROUP_BUTTON_CASES)
async def test_access_button_in_a_group_is_refused_even_with_the_role(world, button, chat):
    actor = HOLDER[button.role]
    person = world.users[actor]
    before = mark(world, chat, person.chat_id)
    # The newest bot message there: "I only work in private chats", or the safeguarding alert.
    shown_there = world.fake.chat_messages(chat)[-1].message_id
    update_id = world.fake.press(person.user_id, shown_there, button.encode(world), chat_id=chat)
    await world.heard.settle(update_id)
    assert_refused(
        world,
        before,
        chat=chat,
        actor=world.actor_name(actor),
        detail=f"/{BUTTON_FAMILY[button.kind]} (button) in a group chat",
        replies=(),
    )
    assert [shown(m) for m in world.fake.chat_messages(person.chat_id)] == before.chats[
        person.chat_id
    ]


# --- a coordinator who loses the role mid-way through a draft ---------------------------------


@pytest.mark.parametrize("how", ["typed", "cancel", "button"])
async def test_access_revoked_coordinator_cannot_go_on_with_a_draft(world, how):
    admin, person = world.users[ADMIN], world.user(REVOKED)
    await person.send("/help")
    await admin.send(f"/grant {REVOKED} coordinator")
    await person.send("/newround")
    assert world.coordinator.drafts.get(REVOKED) is not None
    await admin.send(f"/revoke {REVOKED} coordinator")
    before = mark(world, person.chat_id)
    replies: tuple[str, ...] | None
    if how == "typed":
        await person.send("sample")
        detail, replies = "/newround (typed answer)", None
    elif how == "cancel":
        await person.send("/cancel")
        detail, replies = "/newround (cancel)", (WORDS("unknown_command"),)
    else:
        prompt = person.messages()[-1].message_id
        await person.press_data(prompt, RoundButton(DRAFT, "flow1").encode())
        detail, replies = "/newround (button)", (WORDS("stale"),)
    if replies is None:
        # A typed answer goes on to the participant bot (checked against a stranger below).
        old = len(before.chats[person.chat_id])
        replies = tuple(m.text or "" for m in world.fake.chat_messages(person.chat_id)[old:])
    # A refused button leaves the draft in memory (nothing stored); the next message drops it.
    left = world.coordinator.drafts.drop(REVOKED)
    assert (left is not None) == (how == "button")
    assert_refused(
        world,
        before,
        chat=person.chat_id,
        actor=world.access.codes.code(REVOKED),
        detail=f"{detail} in a private chat",
        replies=replies,
    )
    if how == "typed":
        stranger = world.user(STRANGER)
        await stranger.send("sample")
        assert replies == tuple(stranger.texts_since(0)), "not what a stranger is told"


# --- the same commands and buttons work for the right role (so the cases above are real) ------


@pytest.mark.parametrize(
    ("name", "shows"),
    [
        ("rounds", TITLE),
        ("round", TITLE),
        ("flags", RISK),
        ("staff", "5003"),
        ("audit", "refused"),
    ],
)
async def test_access_control_the_right_role_gets_the_data(world, name, shows):
    actor = HOLDER[PRIVILEGED[name][0]]
    person = world.users[actor]
    seen = len(person.messages())
    await person.send(command_text(world, name, actor))
    assert any(shows in text for text in person.texts_since(seen))


@pytest.mark.parametrize(
    ("name", "shows"), [("round-close", TITLE), ("export-everything-ask", "CSV")]
)
async def test_access_control_the_right_role_can_press_the_forged_button(world, name, shows):
    [button] = [b for b in BUTTONS if b.name == name]
    person = world.users[HOLDER[button.role]]
    seen = len(person.messages())
    await person.press_data(person.messages()[-1].message_id, button.encode(world))
    said = [m.text or "" for m in person.messages()[seen:]]
    said += [b["text"] for m in person.messages()[seen:] for b in m.inline_buttons()]
    assert any(shows in words for words in said)
    # Both only ask a further question: the round is still open for the cases above.
    assert rows(world.database, "SELECT status FROM rounds") == [("open",)]
