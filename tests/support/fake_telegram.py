"""A fake Telegram Bot API server for offline tests, checked against the official method list.

It speaks HTTP on 127.0.0.1 only, inside the caller's event loop, so a real python-telegram-bot
``Bot`` or ``Application`` can talk to it. Tests inject what a user does (texts, other kinds of
message, button presses), observe what the bot did (calls, messages per chat, answered callback
queries) and inject faults (errors for the next calls of a method, a user who blocked the bot).
Opt-in, it also answers 429 like Telegram's flood control when the bot sends too fast.
"""

from __future__ import annotations

import asyncio
import html
import json
import math
import re
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from aiohttp import BodyPartReader, hdrs, web

from tests.support.chaos import Chaos, ChaosSettings, Drop, Failure, method_set

JSON = dict[str, Any]
Handler = Callable[[JSON], Any]

SPEC_PATH = Path(__file__).resolve().parents[1] / "data" / "telegram-bot-api" / "api.min.json"
HOST = "127.0.0.1"
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
SHUTDOWN_TIMEOUT = 2.0
FIRST_UPDATE_ID = 10_001
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_ANSWER = 200
MAX_CALLBACK_DATA_BYTES = 64
PARSE_MODES = frozenset({"HTML", "Markdown", "MarkdownV2"})
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
UNDELIVERED_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
# Updates that carry a message a user (or a channel) sent, new or edited.
USER_MESSAGE_KINDS = frozenset(
    {"message", "channel_post", "edited_message", "edited_channel_post"}
)
USER_KINDS = (
    "photo",
    "voice",
    "video_note",
    "sticker",
    "document",
    "location",
    "contact",
    "poll",
    "video",
    "audio",
    "animation",
)
CHAT_TYPES = frozenset({"private", "group", "supergroup", "channel"})
GROUP_TYPES = frozenset({"group", "supergroup"})
# Kinds of user message that can carry a caption in Telegram.
CAPTIONED_KINDS = frozenset({"photo", "video", "document", "audio", "voice", "animation"})
# The bot's own status in a group: what add_bot_to_group and remove_bot_from_group set.
BOT_STATUSES = frozenset({"member", "administrator", "restricted"})
REMOVED_STATUSES = frozenset({"left", "kicked"})
# What a restricted bot is told it lacks the rights to send, by send method.
SEND_RIGHTS = {
    "sendMessage": "text messages",
    "sendDocument": "documents",
    "sendPhoto": "photos",
}
MAX_REACTION_COUNT = 11
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)
QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"
BLOCKED = "Forbidden: bot was blocked by the user"
DEACTIVATED = "Forbidden: user is deactivated"
# Methods that post a new message into a chat: what Telegram's overall send limit counts.
RATE_LIMITED = frozenset({"sendMessage", "sendDocument", "sendPhoto"})
NO_ANSWER = "no answer: the connection was closed (chaos)"
CONFLICT = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is "
    "running"
)


# --------------------------------------------------------------------------------------------
# Errors, files and records
# --------------------------------------------------------------------------------------------


class ApiError(Exception):
    """An error answer of the Bot API."""

    def __init__(self, code: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def payload(self) -> JSON:
        """Return the JSON body Telegram answers for this error."""
        body: JSON = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(detail: str) -> ApiError:
    """Build a 400 error with Telegram's "Bad Request: ..." description."""
    return ApiError(400, f"Bad Request: {detail}")


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request."""

    file_name: str
    content: bytes
    mime_type: str | None


@dataclass(frozen=True)
class StoredFile:
    """A file the server knows by file_id (uploaded by the bot or sent by a user)."""

    file_id: str
    file_unique_id: str
    file_name: str | None
    mime_type: str | None
    content: bytes

    @property
    def file_path(self) -> str:
        """Return the path under base_file_url that serves this file."""
        return f"files/{self.file_id}"


@dataclass
class Call:
    """One Bot API call the bot made, with what the server answered.

    ``params`` are the typed parameters (raw strings if the call failed before validation);
    ``result_or_error`` is the result, or the error body for a failed call; ``at`` is
    ``time.monotonic()`` when the server answered, ``arrived`` when the request came in.
    Calls are listed in the order they were answered (a long poll is listed when it returns).
    ``dropped`` calls got no answer at all (chaos): ``ok`` says whether they were carried out.
    """

    method: str
    params: JSON
    ok: bool
    result_or_error: Any
    at: float
    arrived: float = 0.0
    dropped: bool = False


@dataclass
class BotMessage:
    """A message the bot sent, as it currently stands (after edits and deletion).

    ``text`` and ``caption`` are what the user sees (markup parsed away, as Telegram returns them);
    ``raw_text`` is the text as the bot sent it, ``parse_mode`` how it asked for it to be parsed.
    ``reply_to`` is the message_id it replied to in the same chat (None if it was no reply).
    """

    message_id: int
    chat_id: int
    text: str | None = None
    reply_markup: JSON | None = None
    document: JSON | None = None
    caption: str | None = None
    edited: bool = False
    deleted: bool = False
    photo: JSON | None = None
    raw_text: str | None = None
    parse_mode: str | None = None
    entities: list[Any] | None = None
    date: int = 0
    edit_date: int | None = None
    reply_to: int | None = None

    @property
    def display_text(self) -> str:
        """Return what a reader of the chat sees as this message's words."""
        if self.text is not None:
            return self.text
        if self.caption:
            return self.caption
        if self.document is not None:
            return f"[document {self.document.get('file_name')}]"
        return "[photo]" if self.photo is not None else ""

    def inline_buttons(self) -> list[JSON]:
        """Return the inline keyboard's buttons, row by row, flattened."""
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [button for row in rows for button in row]


# --------------------------------------------------------------------------------------------
# The Bot API spec and parameter checks (pure functions)
# --------------------------------------------------------------------------------------------


@cache
def api_spec() -> JSON:
    """Load the official Bot API method and type list once."""
    spec: JSON = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    return spec


@cache
def method_names() -> dict[str, str]:
    """Map lower-cased method names to their spelling in the spec."""
    return {name.lower(): name for name in api_spec()["methods"]}


def method_fields(method: str) -> dict[str, JSON]:
    """Return a method's parameters by name."""
    fields = api_spec()["methods"][method].get("fields", [])
    return {f["name"]: f for f in fields}


_INTEGER = re.compile(r"-?\d+")
_SCALAR_CHECKS: dict[str, Callable[[Any], bool]] = {
    "Integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "Float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "Boolean": lambda v: isinstance(v, bool),
    "True": lambda v: v is True,
    "String": lambda v: isinstance(v, str),
    "InputFile": lambda v: isinstance(v, str | UploadedFile),
}


def matches_type(value: Any, type_expr: str) -> bool:
    """Tell whether a decoded JSON value fits a spec type such as "Array of MessageEntity"."""
    if type_expr.startswith("Array of "):
        inner = type_expr.removeprefix("Array of ")
        return isinstance(value, list) and all(matches_type(v, inner) for v in value)
    check = _SCALAR_CHECKS.get(type_expr)
    if check is not None:
        return check(value)
    return _matches_object(value, type_expr)


def _matches_object(value: Any, type_name: str) -> bool:
    """Tell whether value is a JSON object with the spec type's required and typed fields."""
    if not isinstance(value, dict):
        return False
    spec = api_spec()["types"].get(type_name)
    if spec is None:
        return True
    if "subtypes" in spec:
        return any(_matches_object(value, sub) for sub in spec["subtypes"])
    for f in spec.get("fields", []):
        if f["name"] not in value:
            if f["required"]:
                return False
        elif not any(matches_type(value[f["name"]], t) for t in f["types"]):
            return False
    return True


def _parse_scalar(text: str, type_name: str) -> tuple[bool, Any]:
    """Read a form-encoded string as a scalar spec type; (False, None) if it is not one."""
    if type_name == "String":
        return True, text
    if type_name == "Integer" and _INTEGER.fullmatch(text):
        return True, int(text)
    if type_name == "Float":
        try:
            return True, float(text)
        except ValueError:
            return False, None
    if type_name in ("Boolean", "True") and text.lower() in ("true", "1"):
        return True, True
    if type_name == "Boolean" and text.lower() in ("false", "0"):
        return True, False
    return False, None


def coerce_param(
    name: str, raw: Any, types: list[str], attachments: Mapping[str, UploadedFile]
) -> Any:
    """Turn one raw parameter (form string or JSON value) into a value of one of its types."""
    if isinstance(raw, str):
        if "InputFile" in types and raw.startswith("attach://"):
            return _attached(raw, attachments)
        for type_name in types:
            ok, value = _parse_scalar(raw, type_name)
            if ok:
                return value
        raw = _decode_json(name, raw)
    if any(matches_type(raw, t) for t in types):
        return raw
    raise bad_request(f"wrong type of parameter {name}: expected {' or '.join(types)}")


def _decode_json(name: str, text: str) -> Any:
    """Decode a JSON-serialized parameter value."""
    try:
        return json.loads(text)
    except ValueError:
        raise bad_request(f"can't parse {name} JSON object") from None


def _attached(uri: str, attachments: Mapping[str, UploadedFile]) -> UploadedFile:
    """Resolve an attach://name reference to its multipart file part."""
    part = attachments.get(uri.removeprefix("attach://"))
    if part is None:
        raise bad_request(f"file {uri} not found in the request")
    return part


def validate_params(method: str, raw: JSON, files: Mapping[str, UploadedFile]) -> JSON:
    """Check raw parameters against the spec and return them typed."""
    fields = method_fields(method)
    merged = dict(raw)
    merged.update({name: part for name, part in files.items() if name in fields})
    for name in sorted(merged):
        if name not in fields:
            raise bad_request(f"unknown parameter {name}")
    for name, spec in fields.items():
        if spec["required"] and name not in merged:
            raise bad_request(f"parameter {name} is required")
    return {
        name: coerce_param(name, v, fields[name]["types"], files) for name, v in merged.items()
    }


def utf16_len(text: str) -> int:
    """Return a string's length in UTF-16 code units, as Telegram counts entity offsets."""
    return len(text.encode("utf-16-le")) // 2


_COMMAND = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,64})?")


def command_entities(text: str) -> list[JSON]:
    """Return bot_command entities for every /command in a text, with UTF-16 offsets."""
    return [
        {"type": "bot_command", "offset": utf16_len(text[: m.start()]), "length": utf16_len(m[0])}
        for m in _COMMAND.finditer(text)
    ]


def check_inline_keyboard(markup: JSON) -> None:
    """Refuse inline keyboards Telegram would refuse (button actions, callback_data size)."""
    rows = markup.get("inline_keyboard")
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request("can't parse inline keyboard markup JSON object")
    for button in (b for row in rows for b in row):
        _check_button(button)


def _check_button(button: JSON) -> None:
    """Check one inline keyboard button."""
    if not button.get("text"):
        raise bad_request("can't parse inline keyboard button: Text buttons are unallowed")
    actions = [name for name in button if name in _button_actions()]
    if len(actions) != 1:
        raise bad_request(
            "can't parse inline keyboard button: exactly one of "
            f"{', '.join(sorted(_button_actions()))} must be given, got {actions}"
        )
    data = button.get("callback_data")
    if data is not None and not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES:
        raise bad_request("BUTTON_DATA_INVALID")


@cache
def _button_actions() -> frozenset[str]:
    """Return the InlineKeyboardButton fields that are actions (all optional, but one needed)."""
    cosmetic = {"text", "icon_custom_emoji_id", "style"}
    fields = api_spec()["types"]["InlineKeyboardButton"]["fields"]
    return frozenset(f["name"] for f in fields if f["name"] not in cosmetic)


_BOT_COMMAND = re.compile(r"[a-z0-9_]{1,32}")


def check_bot_commands(commands: list[JSON]) -> None:
    """Refuse command lists Telegram would refuse."""
    if len(commands) > 100:
        raise bad_request("too many commands")
    for command in commands:
        if not _BOT_COMMAND.fullmatch(command["command"]):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(command["description"].strip()) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")


# --- formatted text ------------------------------------------------------------------------

_HTML_TAG = re.compile(r"<(/?)([A-Za-z][\w-]*)(\s[^<>]*)?>")
_HTML_TAGS = frozenset(
    {
        "a",
        "b",
        "blockquote",
        "code",
        "del",
        "em",
        "i",
        "ins",
        "pre",
        "s",
        "span",
        "strike",
        "strong",
        "tg-emoji",
        "tg-spoiler",
        "tg-time",
        "u",
    }
)
_MD2_MARKERS = ("||", "__", "*", "_", "~")
_MD2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")


def _byte_offset(text: str, index: int) -> int:
    """Return the UTF-8 byte offset of a character index, as Telegram reports positions."""
    return len(text[:index].encode())


def _entity_error(detail: str) -> ApiError:
    """Build Telegram's error for text that cannot be parsed under its parse_mode."""
    return bad_request(f"can't parse entities: {detail}")


def visible_text(text: str, parse_mode: str | None) -> str:
    """Parse formatted text the way Telegram does and return what the user sees."""
    if parse_mode == "HTML":
        return _html_visible(text)
    if parse_mode == "MarkdownV2":
        return _markdown_v2_visible(text)
    return text


def _html_visible(text: str) -> str:
    """Check Telegram-HTML tags (supported, balanced) and return the text without them."""
    parts: list[str] = []
    open_tags: list[str] = []
    pos = 0
    while (start := text.find("<", pos)) != -1:
        parts.append(text[pos:start])
        match = _HTML_TAG.match(text, start)
        tag = match[2].lower() if match else ""
        if match is None or tag not in _HTML_TAGS:
            offset = _byte_offset(text, start)
            raise _entity_error(f'Unsupported start tag "{tag}" at byte offset {offset}')
        _track_tag(open_tags, tag, closing=bool(match[1]), offset=_byte_offset(text, start))
        pos = match.end()
    if open_tags:
        raise _entity_error(f'Can\'t find end tag corresponding to start tag "{open_tags[-1]}"')
    parts.append(text[pos:])
    return html.unescape("".join(parts))


def _track_tag(open_tags: list[str], tag: str, *, closing: bool, offset: int) -> None:
    """Push an opening tag or pop its matching closing tag."""
    if not closing:
        open_tags.append(tag)
        return
    if not open_tags or open_tags[-1] != tag:
        expected = f'"</{open_tags[-1]}>"' if open_tags else "no end tag"
        raise _entity_error(
            f'Unmatched end tag at byte offset {offset}, expected {expected}, found "</{tag}>"'
        )
    open_tags.pop()


def _markdown_v2_visible(text: str) -> str:
    """Check MarkdownV2 escaping and entity balance, and return the text without markup."""
    out: list[str] = []
    open_markers: dict[str, int] = {}
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
        elif ch == "`":
            i = _markdown_v2_code(text, i, out)
        elif ch == "]" and text.startswith("(", i + 1):
            i = _markdown_v2_link_end(text, i)
        elif marker := next((m for m in _MD2_MARKERS if text.startswith(m, i)), None):
            _toggle_marker(open_markers, marker, i)
            i += len(marker)
        elif ch in "[]" or (ch == ">" and (i == 0 or text[i - 1] == "\n")):
            i += 1
        elif ch in _MD2_RESERVED:
            raise _entity_error(
                f"Character '{ch}' is reserved and must be escaped with the preceding '\\'"
            )
        else:
            out.append(ch)
            i += 1
    if open_markers:
        marker, start = min(open_markers.items(), key=lambda item: item[1])
        offset = _byte_offset(text, start)
        raise _entity_error(f'Can\'t find end of "{marker}" entity at byte offset {offset}')
    return "".join(out)


def _toggle_marker(open_markers: dict[str, int], marker: str, index: int) -> None:
    """Open a MarkdownV2 entity marker, or close it if it is open."""
    if marker in open_markers:
        del open_markers[marker]
    else:
        open_markers[marker] = index


def _markdown_v2_code(text: str, start: int, out: list[str]) -> int:
    """Append an inline code or pre block's content and return the index after it."""
    fence = "```" if text.startswith("```", start) else "`"
    end = text.find(fence, start + len(fence))
    if end == -1:
        offset = _byte_offset(text, start)
        raise _entity_error(f"Can't find end of Code entity at byte offset {offset}")
    body = text[start + len(fence) : end]
    if fence == "```" and "\n" in body:
        body = body.split("\n", 1)[1]
    out.append(body.replace("\\`", "`").replace("\\\\", "\\"))
    return end + len(fence)


def _markdown_v2_link_end(text: str, start: int) -> int:
    """Skip the (url) part of a MarkdownV2 link and return the index after it."""
    end = text.find(")", start + 2)
    if end == -1:
        offset = _byte_offset(text, start)
        raise _entity_error(f"Can't find end of a URL at byte offset {offset}")
    return end + 1


def check_text(text: str, parse_mode: str | None, *, caption: bool = False) -> str:
    """Check a message text or caption's length after parsing and return the visible text."""
    shown = visible_text(text, parse_mode)
    limit = MAX_CAPTION if caption else MAX_TEXT
    if len(shown) > limit:
        raise bad_request("message caption is too long" if caption else "message is too long")
    if not caption and not shown.strip():
        raise bad_request("message text is empty")
    return shown


# --------------------------------------------------------------------------------------------
# What users send (pure builders)
# --------------------------------------------------------------------------------------------


def _file_ids(kind: str, serial: int) -> JSON:
    """Return a file_id and file_unique_id pair for a user-sent file."""
    return {"file_id": f"AgAD-{kind}-{serial}", "file_unique_id": f"AQAD{kind}{serial}"}


def _media_fields(kind: str, ids: JSON) -> JSON:
    """Return the message fields of a user-sent file of the given kind."""
    small = {"file_id": f"{ids['file_id']}-s", "file_unique_id": f"{ids['file_unique_id']}s"}
    media: dict[str, JSON] = {
        "photo": {
            "photo": [
                {**small, "width": 90, "height": 67, "file_size": 1_290},
                {**ids, "width": 1280, "height": 960, "file_size": 98_765},
            ]
        },
        "voice": {"voice": {**ids, "duration": 4, "mime_type": "audio/ogg", "file_size": 9_876}},
        "video_note": {"video_note": {**ids, "length": 240, "duration": 6, "file_size": 65_432}},
        "sticker": {
            "sticker": {
                **ids,
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "emoji": "🙂",
                "set_name": "HeardTestStickers",
                "file_size": 23_456,
            }
        },
        "document": {
            "document": {
                **ids,
                "file_name": "notes.pdf",
                "mime_type": "application/pdf",
                "file_size": 54_321,
            }
        },
        "video": {
            "video": {
                **ids,
                "width": 640,
                "height": 360,
                "duration": 12,
                "mime_type": "video/mp4",
                "file_size": 765_432,
            }
        },
        "audio": {
            "audio": {
                **ids,
                "duration": 180,
                "performer": "Test Band",
                "title": "Test Song",
                "mime_type": "audio/mpeg",
                "file_size": 2_345_678,
            }
        },
    }
    if kind == "animation":
        animation = {
            **ids,
            "width": 320,
            "height": 240,
            "duration": 3,
            "file_name": "funny.mp4",
            "mime_type": "video/mp4",
            "file_size": 123_456,
        }
        # Telegram also fills "document" for animations, for older clients.
        return {"animation": animation, "document": {**animation}}
    return media[kind]


def kind_fields(kind: str, serial: int, user: JSON) -> JSON:
    """Return the message fields of a non-text message of the given kind."""
    if kind not in USER_KINDS:
        raise ValueError(f"unknown kind {kind!r}; choose one of {', '.join(USER_KINDS)}")
    if kind == "location":
        return {"location": {"latitude": 51.5072, "longitude": -0.1276}}
    if kind == "contact":
        contact = {"phone_number": "+447700900123", "first_name": user["first_name"]}
        return {"contact": {**contact, "user_id": user["id"]}}
    if kind == "poll":
        return {"poll": _poll(serial)}
    return _media_fields(kind, _file_ids(kind, serial))


def _poll(serial: int) -> JSON:
    """Return a small regular poll a user created."""
    options = [
        {"persistent_id": f"opt-{serial}-{n}", "text": text, "voter_count": 0}
        for n, text in enumerate(("Yes", "No"))
    ]
    return {
        "id": str(5_000_000_000_000_000_000 + serial),
        "question": "Shall we?",
        "options": options,
        "total_voter_count": 0,
        "is_closed": False,
        "is_anonymous": True,
        "type": "regular",
        "allows_multiple_answers": False,
        "allows_revoting": False,
        "members_only": False,
    }


def user_files(message: JSON) -> list[JSON]:
    """Return the file objects (with file_id) a user message carries."""
    found: list[JSON] = []
    for value in message.values():
        candidates = value if isinstance(value, list) else [value]
        found += [c for c in candidates if isinstance(c, dict) and "file_id" in c]
    return found


@cache
def update_kinds() -> frozenset[str]:
    """Return every update type in the spec."""
    return frozenset(f["name"] for f in api_spec()["types"]["Update"]["fields"]) - {"update_id"}


def update_kind(update: JSON) -> str:
    """Return an update's type, i.e. its one field besides update_id."""
    return next(key for key in update if key != "update_id")


def message_key(chat_type: str) -> str:
    """Return the update field a new message lands in for a chat type."""
    return "channel_post" if chat_type == "channel" else "message"


def edited_key(chat_type: str) -> str:
    """Return the update field an edited message lands in for a chat type."""
    return "edited_channel_post" if chat_type == "channel" else "edited_message"


def without_reply(message: JSON) -> JSON:
    """Return a message as it appears in reply_to_message: without a reply of its own."""
    return {key: value for key, value in message.items() if key != "reply_to_message"}


# --------------------------------------------------------------------------------------------
# Chats and members (pure builders)
# --------------------------------------------------------------------------------------------


def chat_full_info(chat: JSON) -> JSON:
    """Return the ChatFullInfo object getChat answers for a Chat object."""
    private = chat["type"] == "private"
    gifts = {name: private for name in _required_flags("AcceptedGiftTypes")}
    return {
        **chat,
        "accent_color_id": abs(chat["id"]) % 7,
        "max_reaction_count": MAX_REACTION_COUNT,
        "accepted_gift_types": gifts,
    }


def chat_member(user: JSON, status: str) -> JSON:
    """Return a ChatMember object of a status, with the fields its subtype requires."""
    body: JSON = {"status": status, "user": user}
    if status == "administrator":
        rights = dict.fromkeys(_required_flags("ChatMemberAdministrator"), True)
        fixed = {"can_be_edited": False, "is_anonymous": False, "can_promote_members": False}
        body.update(rights, **fixed)
    elif status == "restricted":
        body.update(dict.fromkeys(_required_flags("ChatMemberRestricted"), False))
        body.update(is_member=True, until_date=0)  # 0: restricted until lifted
    elif status == "kicked":
        body["until_date"] = 0
    return body


@cache
def _required_flags(type_name: str) -> tuple[str, ...]:
    """Return the names of a spec type's required Boolean fields."""
    fields = api_spec()["types"][type_name]["fields"]
    return tuple(f["name"] for f in fields if f["required"] and f["types"] == ["Boolean"])


def removed_error(chat: JSON, status: str) -> ApiError:
    """Build the 403 Telegram answers in a group the bot left or was removed from."""
    kind = "supergroup" if chat["type"] == "supergroup" else "group"
    if status == "kicked":
        return ApiError(403, f"Forbidden: bot was kicked from the {kind} chat")
    return ApiError(403, f"Forbidden: bot is not a member of the {kind} chat")


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------


class _Signal:
    """Wake every waiter whenever something happens on the server."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def fire(self) -> None:
        """Wake all current waiters."""
        self._event.set()
        self._event = asyncio.Event()

    async def wait_until(self, predicate: Callable[[], bool], seconds: float) -> bool:
        """Wait until predicate holds, re-checking on each fire; False if timeout passes first."""
        try:
            async with asyncio.timeout(seconds):
                while not predicate():
                    await self._event.wait()
        except TimeoutError:
            return predicate()
        return True


class FakeTelegram:
    """A fake Telegram Bot API server bound to 127.0.0.1, for a real PTB bot to talk to."""

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        *,
        bot_username: str = "heard_test_bot",
        send_limit_per_second: float | None = None,
        latency: float = 0.0,
    ) -> None:
        """Make a server; with send_limit_per_second, sends above that rate answer 429.

        With `latency`, every call waits that many seconds before it is carried out, as calls
        to Telegram take a round trip over the internet (about 0.1 s).

        The limit is a sliding one-second window over sends (sendMessage, sendDocument,
        sendPhoto, across all chats): a send that would make more than `send_limit_per_second`
        of them within the last second is refused with 429 and a whole-second retry_after, as
        Telegram's flood control does. Sends refused with 429 do not count towards the limit.
        """
        if send_limit_per_second is not None and not send_limit_per_second >= 1:
            raise ValueError(f"expected a send limit of 1 or more; got {send_limit_per_second}")
        self.token = token
        self.send_limit_per_second = send_limit_per_second
        self.latency = latency
        self._recent_sends: deque[float] = deque()
        self.bot_username = bot_username
        self.bot_user: JSON = {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": "Heard (test)",
            "username": bot_username,
        }
        self.calls: list[Call] = []
        self.polls_waiting = 0
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._signal = _Signal()
        self._closing = False
        self._next_update_id = FIRST_UPDATE_ID
        self._next_message_id = 1
        self._next_query_id = 1
        self._queue: list[JSON] = []
        self._delivered: set[int] = set()
        self._confirmed_offset = 0
        self._allowed_updates: list[str] = []
        self._poll_generation = 0
        self._chats: dict[int, JSON] = {}
        self._users: dict[int, JSON] = {}
        self._bot_messages: dict[int, list[BotMessage]] = {}
        self._user_messages: dict[int, dict[int, JSON]] = {}
        self._bot_status: dict[int, str] = {}
        self._members: dict[int, set[int]] = {}
        self._queries: dict[str, bool] = {}
        self._blocked: dict[int, str] = {}
        self._token_revoked = False
        self._faults: dict[str, list[ApiError]] = {}
        self._chaos: Chaos | None = None
        self._commands: dict[tuple[str, str], list[JSON]] = {}
        self._menu_buttons: dict[int | None, JSON] = {}
        self._files: dict[str, StoredFile] = {}
        self._handlers: dict[str, Handler] = {
            "getMe": self._get_me,
            "logOut": self._true,
            "close": self._true,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "setChatMenuButton": self._set_chat_menu_button,
            "getChatMenuButton": self._get_chat_menu_button,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "sendDocument": self._send_document,
            "sendPhoto": self._send_photo,
            "sendChatAction": self._send_chat_action,
            "getFile": self._get_file,
            "getChat": self._get_chat,
            "getChatMember": self._get_chat_member,
        }

    # --- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Serve on a free port of 127.0.0.1 (loopback only)."""
        if self._runner is not None:
            raise RuntimeError("FakeTelegram is already started")
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._serve_file)
        app.router.add_route("*", "/{tail:.*}", self._not_found)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT)
        await runner.setup()
        await web.TCPSite(runner, HOST, 0).start()
        self._runner = runner
        self._port = runner.addresses[0][1]
        self._closing = False

    async def stop(self) -> None:
        """Wake pending long polls and stop serving; safe to call twice."""
        self._closing = True
        self._signal.fire()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """Return the base_url for PTB (it appends the token)."""
        return f"http://{HOST}:{self._require_port()}/bot"

    @property
    def base_file_url(self) -> str:
        """Return the base_file_url for PTB (it appends the token)."""
        return f"http://{HOST}:{self._require_port()}/file/bot"

    def _require_port(self) -> int:
        """Return the bound port, or fail if the server is not started."""
        if self._port is None:
            raise RuntimeError("FakeTelegram is not started")
        return self._port

    # --- what users do --------------------------------------------------------------------------

    def send_text(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        chat_type: str = "private",
        first_name: str = "Sam",
        language_code: str | None = "en",
        date: int | None = None,
        reply_to: int | None = None,
        username: str | None = None,
    ) -> int:
        """Inject a text message from a user and return its update_id.

        `date` is the message's Unix time (default now); `reply_to` the message_id of an
        earlier message in the chat, bot's or user's, that this one replies to. A `username`
        is kept for the user's later messages and presses too.
        """
        self._remember_user(user_id, first_name, language_code, username)
        message = self._new_user_message(user_id, chat_id, chat_type, date)
        message["text"] = text
        if entities := command_entities(text):
            message["entities"] = entities
        if reply_to is not None:
            message["reply_to_message"] = self._reply_target(message["chat"]["id"], reply_to)
        return self.inject({message_key(chat_type): message})

    def send_kind(
        self,
        user_id: int,
        kind: str,
        *,
        chat_id: int | None = None,
        chat_type: str = "private",
        first_name: str | None = None,
        language_code: str | None = None,
        caption: str | None = None,
    ) -> int:
        """Inject a non-text message (photo, voice, sticker, ...) and return its update_id.

        A `caption` is for the kinds that carry one in Telegram (CAPTIONED_KINDS).
        """
        if caption is not None and kind not in CAPTIONED_KINDS:
            raise ValueError(f"a {kind} cannot have a caption in Telegram")
        user = self._user(user_id, first_name, language_code)
        message = self._new_user_message(user_id, chat_id, chat_type)
        message.update(kind_fields(kind, message["message_id"], user))
        if caption is not None:
            message.update(_caption_fields(caption))
        for file in user_files(message):
            self._store_user_file(kind, file)
        return self.inject({message_key(chat_type): message})

    def press(
        self,
        user_id: int,
        message_id: int,
        data: str,
        *,
        chat_id: int | None = None,
        first_name: str | None = None,
        language_code: str | None = None,
    ) -> int:
        """Inject a callback query for a bot message and return its update_id."""
        chat_id = user_id if chat_id is None else chat_id
        message = self._find_bot_message(chat_id, message_id)
        if message is None:
            raise LookupError(f"no bot message {message_id} in chat {chat_id} to press on")
        query_id = str(4_200_000_000_000_000_000 + self._next_query_id)
        self._next_query_id += 1
        self._queries[query_id] = False
        query = {
            "id": query_id,
            "from": self._user(user_id, first_name, language_code),
            "message": self._message_json(message),
            "chat_instance": str(-7_000_000_000_000_000_000 - abs(chat_id)),
            "data": data,
        }
        return self.inject({"callback_query": query})

    def edit_text(
        self,
        user_id: int,
        message_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        edit_date: int | None = None,
    ) -> int:
        """Inject the edit of a text message the user sent earlier and return its update_id."""
        chat_id = user_id if chat_id is None else chat_id
        original = self._user_messages.get(chat_id, {}).get(message_id)
        sender = (original or {}).get("from", {}).get("id", user_id)
        if original is None or "text" not in original or sender != user_id:
            raise LookupError(f"no text message {message_id} from {user_id} in chat {chat_id}")
        edited = {key: value for key, value in original.items() if key != "entities"}
        edited.update(text=text, edit_date=int(time.time()) if edit_date is None else edit_date)
        if entities := command_entities(text):
            edited["entities"] = entities
        return self.inject({edited_key(original["chat"]["type"]): edited})

    def add_bot_to_group(
        self,
        chat_id: int,
        *,
        title: str = "Safeguarding team",
        chat_type: str = "supergroup",
        status: str = "member",
    ) -> None:
        """Put the bot in a group or supergroup as a member, administrator or restricted member.

        A restricted bot cannot send messages there. A group the bot is in is also known once a
        user message from it was injected.
        """
        if chat_type not in GROUP_TYPES:
            raise ValueError(f"expected a group or supergroup; got {chat_type!r}")
        if status not in BOT_STATUSES:
            raise ValueError(f"expected a status in {sorted(BOT_STATUSES)}; got {status!r}")
        if status == "restricted" and chat_type == "group":
            raise ValueError("only supergroups restrict members; basic groups cannot")
        if chat_id >= 0:
            raise ValueError("group and supergroup ids are negative")
        self._chats[chat_id] = {"id": chat_id, "type": chat_type, "title": title}
        self._bot_status[chat_id] = status

    def remove_bot_from_group(self, chat_id: int, kicked: bool = True) -> None:
        """Take the bot out of a group: kicked by an admin, or (kicked=False) it left."""
        if self._chats.get(chat_id, {}).get("type") not in GROUP_TYPES:
            raise LookupError(f"no group {chat_id} the bot is in")
        self._bot_status[chat_id] = "kicked" if kicked else "left"

    def add_private_chat(
        self, user_id: int, first_name: str = "Sam", language_code: str | None = "en"
    ) -> None:
        """Open a user's private chat without an update, as if they had written to the bot.

        For load tests that message many people the bot already knows (from its database),
        without queueing an update per person.
        """
        user = self._remember_user(user_id, first_name, language_code)
        self._chats.setdefault(
            user_id, {"id": user_id, "type": "private", "first_name": user["first_name"]}
        )

    def inject(self, update: JSON) -> int:
        """Queue a raw update (without update_id) for getUpdates and return its update_id."""
        update_id = self._next_update_id
        self._next_update_id += 1
        full = {"update_id": update_id, **update}
        self._learn_from(full)
        if update_kind(full) in self._allowed_kinds():
            self._queue.append(full)
        self._signal.fire()
        return update_id

    # --- what the bot did -----------------------------------------------------------------------

    def chat_messages(self, chat_id: int) -> list[BotMessage]:
        """Return the messages the bot sent in a chat, oldest first, including deleted ones."""
        return list(self._bot_messages.get(chat_id, []))

    def user_message_ids(self, chat_id: int) -> list[int]:
        """Return the ids of the messages users sent in a chat, oldest first."""
        return sorted(self._user_messages.get(chat_id, {}))

    def buttons(self, chat_id: int, message_id: int) -> list[tuple[str, str]]:
        """Return (label, callback_data) of a bot message's inline buttons ("" if no data)."""
        message = self._find_bot_message(chat_id, message_id, include_deleted=True)
        if message is None:
            raise LookupError(f"no bot message {message_id} in chat {chat_id}")
        return [(b["text"], b.get("callback_data", "")) for b in message.inline_buttons()]

    def answered_callbacks(self) -> list[JSON]:
        """Return the parameters of every successful answerCallbackQuery call."""
        return [c.params for c in self.calls if c.method == "answerCallbackQuery" and c.ok]

    def calls_of(self, method: str) -> list[Call]:
        """Return the calls of one method (any spelling), successful or not."""
        name = method_names().get(method.lower(), method)
        return [c for c in self.calls if c.method == name]

    def delivered_update_ids(self) -> set[int]:
        """Return the update ids getUpdates has returned to the bot at least once."""
        return set(self._delivered)

    def confirmed_update_ids(self) -> set[int]:
        """Return the update ids the bot confirmed by polling with a higher offset."""
        return set(range(FIRST_UPDATE_ID, min(self._confirmed_offset, self._next_update_id)))

    @property
    def confirmed_offset(self) -> int:
        """Return the highest offset the bot has passed to getUpdates (0 if none)."""
        return self._confirmed_offset

    def pending_update_ids(self) -> list[int]:
        """Return the ids of queued, unconfirmed updates."""
        return [u["update_id"] for u in self._queue]

    async def wait_for(
        self,
        predicate: Callable[[], bool],
        timeout: float = 10.0,  # noqa: ASYNC109 - a bounded wait is the point of this helper
    ) -> None:
        """Wait until predicate holds, re-checking after every call; TimeoutError after timeout."""
        if not await self._signal.wait_until(predicate, timeout):
            raise TimeoutError(
                f"condition not met within {timeout} s; the last calls were:\n"
                + self.describe_calls()
            )

    def describe_calls(self, last: int = 10) -> str:
        """Describe the last calls, one a line, for failure messages."""
        lines = [_describe_call(c) for c in self.calls[-last:]]
        return "\n".join(lines) if lines else "  (no calls yet)"

    # --- faults ---------------------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        error_code: int,
        description: str,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Make the next `times` calls of a method answer the given error."""
        name = method_names().get(method.lower())
        if name is None:
            raise ValueError(f"{method!r} is not a Bot API method")
        parameters = {"retry_after": retry_after} if retry_after is not None else None
        errors = [ApiError(error_code, description, parameters) for _ in range(times)]
        self._faults.setdefault(name, []).extend(errors)

    def chaos(
        self,
        *,
        seed: int,
        error_rate: float = 0.05,
        timeout_rate: float = 0.02,
        burst_rate: float = 0.0,
        retry_after: int = 1,
        hang_seconds: float = 0.0,
        methods: Iterable[str] | None = None,
        burst_at: int | None = None,
    ) -> Chaos:
        """Inject random faults into calls from now on (tests/support/chaos.py); calm() ends it.

        Returns the Chaos, whose `injected` counts the faults by kind.
        """
        unknown = [m for m in methods or () if m not in method_names().values()]
        if unknown:
            raise ValueError(f"not Bot API methods: {unknown}")
        self._chaos = Chaos(
            ChaosSettings(
                seed,
                error_rate,
                timeout_rate,
                burst_rate,
                retry_after,
                hang_seconds,
                method_set(methods),
                burst_at,
            )
        )
        return self._chaos

    def calm(self) -> None:
        """Stop injecting random faults (a flood burst under way ends too)."""
        self._chaos = None

    def block(self, chat_id: int, description: str = BLOCKED) -> None:
        """Act as if the user blocked the bot: sends and edits to the chat answer 403.

        Give `description=DEACTIVATED` for a user who deleted their Telegram account.
        """
        self._blocked[chat_id] = description

    def unblock(self, chat_id: int) -> None:
        """Undo block()."""
        self._blocked.pop(chat_id, None)

    def revoke_token(self) -> None:
        """Act as if the token was revoked with @BotFather: every call now answers 401.

        A long poll under way is answered 401 at once, as Telegram ends it.
        """
        self._token_revoked = True
        self._signal.fire()

    # --- HTTP -----------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        """Answer one Bot API request."""
        requested = request.match_info["method"]
        if request.match_info["token"] != self.token or self._token_revoked:
            return self._answer(requested, {}, ApiError(401, "Unauthorized"))
        method = method_names().get(requested.lower())
        if method is None:
            return self._answer(requested, {}, ApiError(404, "Not Found"))
        if self.latency:
            await asyncio.sleep(self.latency)
        arrived = time.monotonic()
        params: JSON = {}
        fault = None
        try:
            try:
                params, files = await _read_params(request)
            except ConnectionResetError:
                # The client went away mid-request (a bot stopped or killed): nothing was
                # asked in full, so nothing is performed or recorded, and nobody is answered.
                return web.Response(status=204)  # never written: the connection is gone
            self._raise_fault(method)
            fault = self._chaos.roll(method, arrived) if self._chaos else None
            if isinstance(fault, Failure):
                parameters = {"retry_after": fault.retry_after} if fault.retry_after else None
                raise ApiError(fault.code, fault.description, parameters)
            params = validate_params(method, params, files)
            self._check_send_rate(method)
            if isinstance(fault, Drop) and not fault.performed:
                unanswered = {"ok": False, "description": NO_ANSWER}
                return await self._drop(
                    request, Call(method, params, False, unanswered, 0, arrived), fault
                )
            result = await self._perform(method, params, request)
        except ApiError as error:
            return self._answer(method, params, error, arrived)
        if isinstance(fault, Drop):
            return await self._drop(request, Call(method, params, True, result, 0, arrived), fault)
        return self._answer(method, params, result, arrived)

    async def _drop(self, request: web.Request, call: Call, fault: Drop) -> web.Response:
        """Answer nothing: wait as the fault says, record the call, then close the connection."""
        if fault.hang:
            await asyncio.sleep(fault.hang)
        call.at, call.dropped = time.monotonic(), True
        self.calls.append(call)
        self._signal.fire()
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=204)  # never written: the connection is gone

    async def _not_found(self, request: web.Request) -> web.Response:
        """Answer paths outside the Bot API like Telegram does."""
        return web.json_response(ApiError(404, "Not Found").payload(), status=404)

    async def _serve_file(self, request: web.Request) -> web.Response:
        """Serve a stored file's bytes under base_file_url."""
        if request.match_info["token"] != self.token:
            return web.json_response(ApiError(401, "Unauthorized").payload(), status=401)
        path = request.match_info["path"]
        stored = next((f for f in self._files.values() if f.file_path == path), None)
        if stored is None:
            return web.json_response(ApiError(404, "Not Found").payload(), status=404)
        return web.Response(body=stored.content, content_type="application/octet-stream")

    def _answer(
        self, method: str, params: JSON, outcome: Any, arrived: float | None = None
    ) -> web.Response:
        """Record the call, wake waiters and build the HTTP response."""
        ok = not isinstance(outcome, ApiError)
        recorded = outcome.payload() if isinstance(outcome, ApiError) else outcome
        now = time.monotonic()
        self.calls.append(
            Call(method, params, ok, recorded, now, now if arrived is None else arrived)
        )
        self._signal.fire()
        if isinstance(outcome, ApiError):
            return web.json_response(outcome.payload(), status=outcome.code)
        return web.json_response({"ok": True, "result": outcome})

    def _check_send_rate(self, method: str) -> None:
        """Refuse a send with 429 if it would exceed send_limit_per_second; else count it."""
        limit = self.send_limit_per_second
        if limit is None or method not in RATE_LIMITED:
            return
        now = time.monotonic()
        recent = self._recent_sends
        while recent and recent[0] <= now - 1.0:
            recent.popleft()
        if len(recent) + 1 > limit:
            wait = max(1, math.ceil(recent[0] + 1.0 - now))
            raise ApiError(429, f"Too Many Requests: retry after {wait}", {"retry_after": wait})
        recent.append(now)

    def _raise_fault(self, method: str) -> None:
        """Raise the next injected fault for a method, if any."""
        queued = self._faults.get(method)
        if queued:
            raise queued.pop(0)

    async def _perform(self, method: str, params: JSON, request: web.Request) -> Any:
        """Run the checks every method shares, then the method itself."""
        if "chat_id" in params:
            self._check_chat_reachable(params["chat_id"])
        if "parse_mode" in params and params["parse_mode"] not in PARSE_MODES:
            raise bad_request("unsupported parse_mode")
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            check_inline_keyboard(markup)
        if method == "getUpdates":
            return await self._get_updates(params, request)
        handler = self._handlers.get(method)
        return True if handler is None else handler(params)

    def _check_chat_reachable(self, chat_id: int | str) -> None:
        """Refuse calls for unknown chats, chats that blocked the bot, groups it is not in."""
        if not isinstance(chat_id, int) or chat_id not in self._chats:
            raise bad_request("chat not found")
        if chat_id in self._blocked:
            raise ApiError(403, self._blocked[chat_id])
        status = self._bot_status_in(chat_id)
        if status in REMOVED_STATUSES:
            raise removed_error(self._chats[chat_id], status)

    def _check_can_send(self, method: str, chat_id: int) -> None:
        """Refuse a send in a group where the bot is restricted (it cannot send messages)."""
        if self._bot_status_in(chat_id) == "restricted":
            raise bad_request(f"not enough rights to send {SEND_RIGHTS[method]} to the chat")

    # --- getUpdates -----------------------------------------------------------------------------

    async def _get_updates(self, params: JSON, request: web.Request) -> list[JSON]:
        """Long-poll: return queued updates, waiting up to timeout seconds for one."""
        self._apply_offset(params.get("offset", 0))
        if "allowed_updates" in params:
            self._allowed_updates = list(params["allowed_updates"])
        limit = min(max(params.get("limit", 100), 1), 100)
        self._poll_generation += 1
        generation = self._poll_generation
        await self._wait_for_updates(generation, max(params.get("timeout", 0), 0))
        if self._closing or _client_gone(request):
            return []
        if self._token_revoked:
            raise ApiError(401, "Unauthorized")
        if generation != self._poll_generation:
            raise ApiError(409, CONFLICT)
        batch = self._queue[:limit]
        self._delivered.update(u["update_id"] for u in batch)
        return batch

    async def _wait_for_updates(self, generation: int, seconds: float) -> None:
        """Wait for an update, a newer poll, server shutdown or the timeout."""
        self.polls_waiting += 1
        self._signal.fire()
        try:
            await self._signal.wait_until(
                lambda: (
                    bool(self._queue)
                    or self._closing
                    or self._token_revoked
                    or generation != self._poll_generation
                ),
                seconds,
            )
        finally:
            self.polls_waiting -= 1

    def _apply_offset(self, offset: int) -> None:
        """Confirm updates below a positive offset, or keep only the last -offset updates."""
        if offset > 0:
            self._confirmed_offset = max(self._confirmed_offset, offset)
            self._queue = [u for u in self._queue if u["update_id"] >= offset]
        elif offset < 0:
            self._queue = self._queue[offset:]

    def _allowed_kinds(self) -> frozenset[str]:
        """Return the update types the bot currently asked for."""
        return frozenset(self._allowed_updates) or update_kinds() - UNDELIVERED_BY_DEFAULT

    # --- simple methods -------------------------------------------------------------------------

    def _true(self, params: JSON) -> bool:
        """Answer True."""
        return True

    def _get_me(self, params: JSON) -> JSON:
        """Return the bot's own user."""
        capabilities = {
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        return {**self.bot_user, **capabilities}

    def _delete_webhook(self, params: JSON) -> bool:
        """Remove the (absent) webhook, dropping pending updates if asked."""
        if params.get("drop_pending_updates"):
            self._queue.clear()
        return True

    def _get_webhook_info(self, params: JSON) -> JSON:
        """Describe the (absent) webhook."""
        return {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._queue),
        }

    def _set_my_commands(self, params: JSON) -> bool:
        """Store a command list for a scope and language."""
        check_bot_commands(params["commands"])
        self._commands[_commands_key(params)] = params["commands"]
        return True

    def _get_my_commands(self, params: JSON) -> list[JSON]:
        """Return the command list stored for exactly this scope and language."""
        return self._commands.get(_commands_key(params), [])

    def _delete_my_commands(self, params: JSON) -> bool:
        """Forget the command list of a scope and language."""
        self._commands.pop(_commands_key(params), None)
        return True

    def _set_chat_menu_button(self, params: JSON) -> bool:
        """Store the menu button of a chat, or the default one."""
        self._menu_buttons[params.get("chat_id")] = params.get("menu_button", {"type": "default"})
        return True

    def _get_chat_menu_button(self, params: JSON) -> JSON:
        """Return the menu button of a chat, or the default one."""
        fallback = self._menu_buttons.get(None, {"type": "default"})
        return self._menu_buttons.get(params.get("chat_id"), fallback)

    def _send_chat_action(self, params: JSON) -> bool:
        """Accept a known chat action."""
        if params["action"] not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    def _answer_callback_query(self, params: JSON) -> bool:
        """Answer a callback query once."""
        if self._queries.get(params["callback_query_id"]) is not False:
            raise bad_request(QUERY_INVALID)
        if len(params.get("text", "")) > MAX_CALLBACK_ANSWER:
            raise bad_request("MESSAGE_TOO_LONG")
        self._queries[params["callback_query_id"]] = True
        return True

    def _get_chat(self, params: JSON) -> JSON:
        """Describe a chat the bot can reach as a ChatFullInfo."""
        return chat_full_info(self._chats[params["chat_id"]])

    def _get_chat_member(self, params: JSON) -> JSON:
        """Describe a user's membership of a chat the bot can reach."""
        chat_id, user_id = params["chat_id"], params["user_id"]
        if user_id == self.bot_user["id"]:
            return chat_member(self.bot_user, self._bot_status_in(chat_id))
        user = self._users.get(user_id)
        if user is None:
            raise bad_request("user not found")
        return chat_member(user, "member" if user_id in self._members_of(chat_id) else "left")

    def _get_file(self, params: JSON) -> JSON:
        """Describe a stored file so the bot can download it from base_file_url."""
        stored = self._files.get(params["file_id"])
        if stored is None:
            raise bad_request("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
            "file_path": stored.file_path,
        }

    # --- sending and editing messages -----------------------------------------------------------

    def _send_message(self, params: JSON) -> JSON:
        """Store and return a new text message."""
        self._check_can_send("sendMessage", params["chat_id"])
        message = self._new_bot_message(params)
        self._set_text(message, params, params["text"])
        return self._message_json(message)

    def _send_document(self, params: JSON) -> JSON:
        """Store an uploaded (or re-sent) document and return the new message."""
        self._check_can_send("sendDocument", params["chat_id"])
        stored = self._stored_file(params["document"], "document")
        message = self._new_bot_message(params)
        message.document = {**_file_json(stored), "content": stored.content}
        self._set_caption(message, params)
        return self._message_json(message)

    def _send_photo(self, params: JSON) -> JSON:
        """Store an uploaded (or re-sent) photo and return the new message."""
        self._check_can_send("sendPhoto", params["chat_id"])
        stored = self._stored_file(params["photo"], "photo")
        message = self._new_bot_message(params)
        message.photo = {**_photo_size_json(stored), "content": stored.content}
        self._set_caption(message, params)
        return self._message_json(message)

    def _edit_message_text(self, params: JSON) -> JSON:
        """Replace a text message's text (and keyboard) unless nothing changes."""
        message = self._editable(params)
        if message.text is None:
            raise bad_request("there is no text in the message to edit")
        before = _content_of(message)
        self._set_text(message, params, params["text"])
        message.reply_markup = _normalise_markup(params.get("reply_markup"))
        return self._finish_edit(message, before)

    def _edit_message_caption(self, params: JSON) -> JSON:
        """Replace a media message's caption (and keyboard) unless nothing changes."""
        message = self._editable(params)
        if message.text is not None:
            raise bad_request("there is no caption in the message to edit")
        before = _content_of(message)
        self._set_caption(message, params)
        message.reply_markup = _normalise_markup(params.get("reply_markup"))
        return self._finish_edit(message, before)

    def _edit_message_reply_markup(self, params: JSON) -> JSON:
        """Replace a message's inline keyboard unless it is the same."""
        message = self._editable(params)
        before = _content_of(message)
        message.reply_markup = _normalise_markup(params.get("reply_markup"))
        return self._finish_edit(message, before)

    def _delete_message(self, params: JSON) -> bool:
        """Delete a bot message or a user message in a chat."""
        chat_id, message_id = params["chat_id"], params["message_id"]
        message = self._find_bot_message(chat_id, message_id)
        if message is not None:
            message.deleted = True
            return True
        if self._user_messages.get(chat_id, {}).pop(message_id, None) is None:
            raise bad_request("message to delete not found")
        return True

    def _new_bot_message(self, params: JSON) -> BotMessage:
        """Create and store a bot message for a send call."""
        chat_id = params["chat_id"]
        reply = params.get("reply_parameters")
        self._check_reply_target(chat_id, reply)
        message = BotMessage(
            message_id=self._take_message_id(),
            chat_id=chat_id,
            reply_markup=_normalise_markup(params.get("reply_markup")),
            date=int(time.time()),
            reply_to=self._replied_id(chat_id, reply),
        )
        self._bot_messages.setdefault(chat_id, []).append(message)
        return message

    def _check_reply_target(self, chat_id: int, reply: JSON | None) -> None:
        """Refuse replies to messages that do not exist, unless the bot allowed that."""
        if not reply or reply.get("allow_sending_without_reply"):
            return
        target_chat = reply.get("chat_id", chat_id)
        known = self._user_messages.get(target_chat, {})
        own = self._find_bot_message(target_chat, reply["message_id"])
        if reply["message_id"] not in known and own is None:
            raise bad_request("message to be replied not found")

    def _replied_id(self, chat_id: int, reply: JSON | None) -> int | None:
        """Return the id of the message in this chat a send replies to, if it is there."""
        if not reply or reply.get("chat_id", chat_id) != chat_id:
            return None
        return reply["message_id"] if self._replied_json(chat_id, reply["message_id"]) else None

    def _set_text(self, message: BotMessage, params: JSON, text: str) -> None:
        """Set a message's text from send or edit parameters."""
        message.text = check_text(text, params.get("parse_mode"))
        message.raw_text = text
        message.parse_mode = params.get("parse_mode")
        message.entities = params.get("entities")

    def _set_caption(self, message: BotMessage, params: JSON) -> None:
        """Set a media message's caption from send or edit parameters."""
        raw = params.get("caption")
        shown = None if raw is None else check_text(raw, params.get("parse_mode"), caption=True)
        message.caption = shown or None
        message.raw_text = raw
        message.parse_mode = params.get("parse_mode")
        message.entities = params.get("caption_entities")

    def _editable(self, params: JSON) -> BotMessage:
        """Find the bot message an edit call points at."""
        if "inline_message_id" in params:
            raise bad_request("message to edit not found")
        if "chat_id" not in params:
            raise bad_request("chat_id is empty")
        if "message_id" not in params:
            raise bad_request("message identifier is not specified")
        message = self._find_bot_message(params["chat_id"], params["message_id"])
        if message is None:
            raise bad_request("message to edit not found")
        return message

    def _finish_edit(self, message: BotMessage, before: tuple[Any, ...]) -> JSON:
        """Refuse no-op edits; mark the message edited and return it."""
        if _content_of(message) == before:
            raise bad_request(NOT_MODIFIED)
        message.edited = True
        message.edit_date = int(time.time())
        return self._message_json(message)

    def _stored_file(self, value: UploadedFile | str, kind: str) -> StoredFile:
        """Store an uploaded file, or find a file_id / accept a URL the bot passes instead."""
        if isinstance(value, UploadedFile):
            serial = len(self._files) + 1
            ids = _file_ids(f"bot{kind}", serial)
            stored = StoredFile(
                **ids, file_name=value.file_name, mime_type=value.mime_type, content=value.content
            )
            self._files[stored.file_id] = stored
            return stored
        if value in self._files:
            return self._files[value]
        if value.startswith(("http://", "https://")):
            name = value.rsplit("/", 1)[-1] or None
            return StoredFile(value, value, name, None, b"")
        raise bad_request("wrong file identifier/HTTP URL specified")

    # --- state helpers --------------------------------------------------------------------------

    def _take_message_id(self) -> int:
        """Return the next message id (shared by user and bot messages)."""
        message_id = self._next_message_id
        self._next_message_id += 1
        return message_id

    def _remember_user(
        self, user_id: int, first_name: str, language_code: str | None, username: str | None = None
    ) -> JSON:
        """Store and return the User object of a (human) user (a username, once given, stays)."""
        user: JSON = {"id": user_id, "is_bot": False, "first_name": first_name}
        username = username or self._users.get(user_id, {}).get("username")
        if username is not None:
            user["username"] = username
        if language_code is not None:
            user["language_code"] = language_code
        self._users[user_id] = user
        return user

    def _user(self, user_id: int, first_name: str | None, language_code: str | None) -> JSON:
        """Return a user as last seen, overriding the name or language if given."""
        known = self._users.get(user_id)
        if known is None:
            return self._remember_user(user_id, first_name or "Sam", language_code or "en")
        if first_name is None and language_code is None:
            return known
        return self._remember_user(
            user_id, first_name or known["first_name"], language_code or known.get("language_code")
        )

    def _chat_json(self, user_id: int, chat_id: int | None, chat_type: str) -> JSON:
        """Return the Chat object a user writes in, creating it if new."""
        if chat_type not in CHAT_TYPES:
            raise ValueError(f"unknown chat type {chat_type!r}")
        if chat_type == "private":
            if chat_id not in (None, user_id):
                raise ValueError("a private chat's id is the user's id")
            person = self._users.get(user_id, {})
            private: JSON = {"id": user_id, "type": "private"}
            private["first_name"] = person.get("first_name", "Sam")
            if "username" in person:
                private["username"] = person["username"]
            return private
        if chat_id is None:
            chat_id = -user_id if chat_type == "group" else -1_000_000_000_000 - user_id
        if chat_id >= 0:
            raise ValueError("group, supergroup and channel ids are negative")
        known = self._chats.get(chat_id)
        return known or {"id": chat_id, "type": chat_type, "title": f"Test {chat_type}"}

    def _new_user_message(
        self, user_id: int, chat_id: int | None, chat_type: str, date: int | None = None
    ) -> JSON:
        """Start a Message object a user (or, in a channel, the channel) sends."""
        chat = self._chat_json(user_id, chat_id, chat_type)
        if self._bot_status.get(chat["id"]) in REMOVED_STATUSES:
            raise LookupError(f"the bot is not in chat {chat['id']}: add_bot_to_group first")
        message: JSON = {
            "message_id": self._take_message_id(),
            "date": int(time.time()) if date is None else date,
        }
        if chat_type == "channel":
            message["sender_chat"] = chat
        else:
            message["from"] = self._user(user_id, None, None)
        message["chat"] = chat
        return message

    def _store_user_file(self, kind: str, file: JSON) -> None:
        """Remember a user-sent file so the bot can getFile and download it."""
        content = f"fake {kind} content {file['file_id']}".encode()
        self._files[file["file_id"]] = StoredFile(
            file["file_id"],
            file["file_unique_id"],
            file.get("file_name"),
            file.get("mime_type"),
            content,
        )

    def _learn_from(self, update: JSON) -> None:
        """Register the chats, users and user messages an injected update mentions."""
        payload = update[update_kind(update)]
        if not isinstance(payload, dict):
            return
        sender = payload.get("from")
        human = sender if isinstance(sender, dict) and not sender.get("is_bot") else None
        if human is not None:
            self._users.setdefault(human["id"], human)
        for candidate in (payload, payload.get("message")):
            if isinstance(candidate, dict) and isinstance(candidate.get("chat"), dict):
                chat = self._chats.setdefault(candidate["chat"]["id"], candidate["chat"])
                if human is not None and chat["type"] in GROUP_TYPES:
                    self._members.setdefault(chat["id"], set()).add(human["id"])
        if update_kind(update) in USER_MESSAGE_KINDS and "message_id" in payload:
            chat_messages = self._user_messages.setdefault(payload["chat"]["id"], {})
            chat_messages[payload["message_id"]] = payload

    def _bot_status_in(self, chat_id: int) -> str:
        """Return the bot's status in a known chat (a member unless told otherwise)."""
        if chat_id in self._bot_status:
            return self._bot_status[chat_id]
        return "administrator" if self._chats[chat_id]["type"] == "channel" else "member"

    def _members_of(self, chat_id: int) -> set[int]:
        """Return the users known to be in a chat: its user if private, who wrote if a group."""
        if self._chats[chat_id]["type"] == "private":
            return {chat_id}
        return self._members.get(chat_id, set())

    def _replied_json(self, chat_id: int, message_id: int) -> JSON | None:
        """Return a message of a chat as reply_to_message shows it, if it is there."""
        own = self._find_bot_message(chat_id, message_id)
        if own is not None:
            return self._message_body(own)
        theirs = self._user_messages.get(chat_id, {}).get(message_id)
        return None if theirs is None else without_reply(theirs)

    def _reply_target(self, chat_id: int, message_id: int) -> JSON:
        """Return the message a user replies to, or fail if the chat has no such message."""
        found = self._replied_json(chat_id, message_id)
        if found is None:
            raise LookupError(f"no message {message_id} in chat {chat_id} to reply to")
        return found

    def _find_bot_message(
        self, chat_id: int, message_id: int, *, include_deleted: bool = False
    ) -> BotMessage | None:
        """Return a bot message by chat and id, if it exists (and is not deleted)."""
        for message in self._bot_messages.get(chat_id, []):
            if message.message_id == message_id and (include_deleted or not message.deleted):
                return message
        return None

    def _message_json(self, message: BotMessage) -> JSON:
        """Return the Message object Telegram would return for a bot message."""
        body = self._message_body(message)
        if message.reply_to is not None:
            replied = self._replied_json(message.chat_id, message.reply_to)
            if replied is not None:
                body["reply_to_message"] = replied
        return body

    def _message_body(self, message: BotMessage) -> JSON:
        """Return a bot message's Message object without the message it replies to."""
        body: JSON = {
            "message_id": message.message_id,
            "from": self.bot_user,
            "chat": self._chats[message.chat_id],
            "date": message.date,
        }
        if message.edit_date is not None:
            body["edit_date"] = message.edit_date
        if message.text is not None:
            body["text"] = message.text
        if message.document is not None:
            body["document"] = _without_content(message.document)
        if message.photo is not None:
            body["photo"] = [_without_content(message.photo)]
        if message.caption:
            body["caption"] = message.caption
        if message.reply_markup and "inline_keyboard" in message.reply_markup:
            body["reply_markup"] = message.reply_markup
        return body


# --------------------------------------------------------------------------------------------
# Small helpers of the server
# --------------------------------------------------------------------------------------------


def _caption_fields(caption: str) -> JSON:
    """Return the caption fields of a user message, with entities for its /commands."""
    fields: JSON = {"caption": caption}
    if entities := command_entities(caption):
        fields["caption_entities"] = entities
    return fields


async def _read_params(request: web.Request) -> tuple[JSON, dict[str, UploadedFile]]:
    """Read parameters from the query string and a JSON, form or multipart body."""
    params: JSON = dict(request.query)
    files: dict[str, UploadedFile] = {}
    if not request.body_exists:
        return params, files
    if request.content_type == "application/json":
        params.update(await _read_json_body(request))
    elif request.content_type == "multipart/form-data":
        await _read_multipart(request, params, files)
    else:
        params.update(await request.post())
    return params, files


async def _read_json_body(request: web.Request) -> JSON:
    """Read a JSON object body."""
    try:
        body = await request.json()
    except ValueError:
        raise bad_request("can't parse JSON body") from None
    if not isinstance(body, dict):
        raise bad_request("the JSON body must be an object")
    return body


async def _read_multipart(
    request: web.Request, params: JSON, files: dict[str, UploadedFile]
) -> None:
    """Read form fields and file parts of a multipart body."""
    try:
        async for part in await request.multipart():
            if not isinstance(part, BodyPartReader) or part.name is None:
                continue
            if part.filename is None:
                params[part.name] = await part.text()
            else:
                content = bytes(await part.read())
                mime_type = part.headers.get(hdrs.CONTENT_TYPE)
                files[part.name] = UploadedFile(part.filename, content, mime_type)
    except ValueError as error:
        raise bad_request(f"can't parse multipart body: {error}") from None


def _client_gone(request: web.Request) -> bool:
    """Tell whether the client closed its connection (e.g. a cancelled long poll)."""
    transport = request.transport
    return transport is None or transport.is_closing()


def _commands_key(params: JSON) -> tuple[str, str]:
    """Return the storage key of a command list: its scope and language."""
    scope = params.get("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), params.get("language_code", "")


def _normalise_markup(markup: JSON | None) -> JSON | None:
    """Treat an empty inline keyboard as no keyboard, like Telegram."""
    if markup is not None and markup.get("inline_keyboard") == []:
        return None
    return markup


def _content_of(message: BotMessage) -> tuple[Any, ...]:
    """Return what an edit must change for Telegram to accept it."""
    return (
        message.raw_text,
        message.parse_mode,
        message.entities,
        message.caption,
        message.reply_markup,
    )


def _file_json(stored: StoredFile) -> JSON:
    """Return the Document-like JSON of a stored file."""
    body: JSON = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.content),
    }
    if stored.file_name:
        body["file_name"] = stored.file_name
    if stored.mime_type:
        body["mime_type"] = stored.mime_type
    return body


def _photo_size_json(stored: StoredFile) -> JSON:
    """Return the PhotoSize JSON of a stored photo."""
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.content),
        "width": 800,
        "height": 600,
    }


def _without_content(file: JSON) -> JSON:
    """Drop the raw bytes from a stored file's JSON."""
    return {key: value for key, value in file.items() if key != "content"}


def _describe_call(call: Call) -> str:
    """Describe one call in a line."""
    params = {
        key: f"<{len(value.content)} bytes>" if isinstance(value, UploadedFile) else value
        for key, value in call.params.items()
    }
    outcome = "ok" if call.ok else f"error {call.result_or_error.get('description')}"
    if call.dropped:
        outcome += " (no answer: connection closed)"
    text = f"  {call.method}({json.dumps(params, ensure_ascii=False, default=str)}) -> {outcome}"
    return text if len(text) <= 300 else text[:297] + "..."
