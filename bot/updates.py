"""Which updates Heard asks Telegram for, and reading them one at a time.

`allowed_updates` is derived from the handlers actually installed, so a new handler brings its
update type with it and Telegram never sends what nothing handles (polls, reactions, boosts,
business messages...). `readable` parses each update of a batch on its own: one that
python-telegram-bot cannot parse (a newer Bot API field, a field of the wrong type) is logged by
its id and the error's type only, and passed on as an empty update so polling moves past it.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from telegram import Chat, Message, Update
from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    ChatBoostHandler,
    ChatJoinRequestHandler,
    ChatMemberHandler,
    ChosenInlineResultHandler,
    CommandHandler,
    InlineQueryHandler,
    MessageHandler,
    MessageReactionHandler,
    PollAnswerHandler,
    PollHandler,
    PreCheckoutQueryHandler,
    ShippingQueryHandler,
    filters,
)

log = logging.getLogger(__name__)

# The update types whose payload is a Message: message filters can match only these.
MESSAGE_TYPES = (
    Update.MESSAGE,
    Update.EDITED_MESSAGE,
    Update.CHANNEL_POST,
    Update.EDITED_CHANNEL_POST,
    Update.BUSINESS_MESSAGE,
    Update.EDITED_BUSINESS_MESSAGE,
    Update.GUEST_MESSAGE,
)
# Handlers of one kind of update (a ChatMemberHandler is looked at on its own).
SINGLE_TYPE: dict[type[BaseHandler[Any, Any, Any]], str] = {
    CallbackQueryHandler: Update.CALLBACK_QUERY,
    InlineQueryHandler: Update.INLINE_QUERY,
    ChosenInlineResultHandler: Update.CHOSEN_INLINE_RESULT,
    ShippingQueryHandler: Update.SHIPPING_QUERY,
    PreCheckoutQueryHandler: Update.PRE_CHECKOUT_QUERY,
    PollHandler: Update.POLL,
    PollAnswerHandler: Update.POLL_ANSWER,
    ChatJoinRequestHandler: Update.CHAT_JOIN_REQUEST,
}
_SAMPLE_MESSAGE = Message(0, datetime(2026, 1, 1, tzinfo=UTC), Chat(0, Chat.PRIVATE))


def allowed_updates(app: Application) -> list[str]:  # type: ignore[type-arg]
    """Return the update types some installed handler can take, in the Bot API's order.

    Handlers in negative groups are left out: there they only guard what the others take
    (Heard's answer to groups). A handler of a kind not known here counts as taking everything,
    so nothing it needs is ever left with Telegram.
    """
    wanted: set[str] = set()
    for group, handlers in app.handlers.items():
        if group >= 0:
            for handler in handlers:
                wanted |= handled_types(handler)
    return [kind for kind in Update.ALL_TYPES if kind in wanted]


def handled_types(handler: BaseHandler[Any, Any, Any]) -> set[str]:
    """Return the update types a handler can match."""
    for kind, name in SINGLE_TYPE.items():
        if isinstance(handler, kind):
            return {name}
    if isinstance(handler, ChatMemberHandler):
        return {
            ChatMemberHandler.MY_CHAT_MEMBER: {Update.MY_CHAT_MEMBER},
            ChatMemberHandler.CHAT_MEMBER: {Update.CHAT_MEMBER},
        }.get(handler.chat_member_types or 0, {Update.MY_CHAT_MEMBER, Update.CHAT_MEMBER})
    if isinstance(handler, MessageReactionHandler):
        return {Update.MESSAGE_REACTION, Update.MESSAGE_REACTION_COUNT}
    if isinstance(handler, ChatBoostHandler):
        return {Update.CHAT_BOOST, Update.REMOVED_CHAT_BOOST}
    if isinstance(handler, MessageHandler | CommandHandler):
        return {kind for kind in MESSAGE_TYPES if _may_match(handler.filters, kind) is not False}
    return set(Update.ALL_TYPES)


# The classes python-telegram-bot makes of `a & b` (and `|`), `~a` and `a ^ b`, found by making
# one of each rather than by their private names; their parts are public attributes.
_MERGED = type(filters.ALL & filters.ALL)
_INVERTED = type(~filters.ALL)
_XOR = type(filters.ALL ^ filters.ALL)


def _may_match(found: filters.BaseFilter, kind: str) -> bool | None:
    """Say whether a filter can pass an update of one type: True, False, or None (it depends).

    Only `filters.UpdateType` leaves are decided (on a sample update of that type); any other
    leaf depends on the message, so it may pass. And, or and not follow three-valued logic.
    """
    parts: Any = found  # the combined filters' parts, typed only on their private classes
    if isinstance(found, _MERGED):
        left = _may_match(parts.base_filter, kind)
        right = _may_match(parts.and_filter or parts.or_filter, kind)
        return _and(left, right) if parts.and_filter else _or(left, right)
    if isinstance(found, _INVERTED):
        inner = _may_match(parts.inv_filter, kind)
        return None if inner is None else not inner
    if isinstance(found, _XOR):
        return _may_match(parts.merged_filter, kind)
    kind_of = type(found)
    if kind_of.__module__ == filters.__name__ and kind_of.__qualname__.startswith("UpdateType."):
        return bool(found.check_update(_sample(kind)))
    return None


def _and(left: bool | None, right: bool | None) -> bool | None:
    if left is False or right is False:
        return False
    return True if left and right else None


def _or(left: bool | None, right: bool | None) -> bool | None:
    if left or right:
        return True
    return False if left is False and right is False else None


def _sample(kind: str) -> Update:
    """Return an update of one message type, for deciding `filters.UpdateType` leaves."""
    fields: dict[str, Any] = {kind: _SAMPLE_MESSAGE}
    return Update(0, **fields)


def readable(raw: list[Any]) -> list[Any]:
    """Return a getUpdates batch with each update python-telegram-bot cannot parse emptied.

    Each is parsed on its own; one that fails is logged by its id and the error's type only
    and becomes `{"update_id": N}` (dropped if it has no id), so polling moves past it. A batch
    with nothing to change is returned as it is.
    """
    kept: list[Any] | None = None
    for at, item in enumerate(raw):
        update_id = item.get("update_id") if isinstance(item, dict) else None
        try:
            Update.de_json(item, None)
        except Exception as error:  # whatever the library raises on data it cannot read
            log.warning(
                "update %s could not be read (%s); skipped", update_id, type(error).__name__
            )
            if kept is None:
                kept = list(raw[:at])
            if isinstance(update_id, int):
                kept.append({"update_id": update_id})
            continue
        if kept is not None:
            kept.append(item)
    return raw if kept is None else kept
