"""A participant in a private chat with the bot, for tests that read like the chat."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from tests.support.fake_telegram import BotMessage, FakeTelegram

Settle = Callable[[int], Awaitable[None]]


async def until_read(server: FakeTelegram, predicate: Callable[..., object]) -> None:
    """Wait (20 s at most) until `predicate` holds of the chat; nothing to read yet is not yet."""

    def holds() -> bool:
        try:
            return bool(predicate())
        except AssertionError:  # nothing to read in the chat yet
            return False

    await server.wait_for(holds, timeout=20)


class ChatUser:
    """Send, press and read in one user's private chat with the bot on a FakeTelegram."""

    def __init__(
        self,
        server: FakeTelegram,
        user_id: int,
        *,
        settle: Settle,
        first_name: str = "Sam",
        language_code: str = "en",
    ) -> None:
        self.server = server
        self.user_id = user_id
        self.first_name = first_name
        self.language_code = language_code
        self._settle = settle

    @property
    def chat_id(self) -> int:
        """Return the private chat's id (the user's id)."""
        return self.user_id

    async def send(self, text: str) -> None:
        """Send a text message and wait until the bot has handled it."""
        update_id = self.server.send_text(
            self.user_id, text, first_name=self.first_name, language_code=self.language_code
        )
        await self._settle(update_id)

    async def send_kind(self, kind: str) -> None:
        """Send a non-text message (photo, voice, sticker, ...) and wait until it is handled."""
        update_id = self.server.send_kind(
            self.user_id, kind, first_name=self.first_name, language_code=self.language_code
        )
        await self._settle(update_id)

    async def press(self, label: str) -> None:
        """Press the button labelled (else: whose label contains) label on the newest keyboard."""
        message = self._newest_keyboard()
        data = _pick_button(message, label)
        await self.press_data(message.message_id, data)

    async def press_data(self, message_id: int, data: str) -> None:
        """Press with arbitrary callback data on a bot message (for stale or forged data)."""
        update_id = self.server.press(
            self.user_id,
            message_id,
            data,
            first_name=self.first_name,
            language_code=self.language_code,
        )
        await self._settle(update_id)

    def messages(self) -> list[BotMessage]:
        """Return every bot message in this chat, oldest first (deleted ones flagged, kept)."""
        return self.server.chat_messages(self.chat_id)

    def last_text(self) -> str:
        """Return the words of the newest bot message still in the chat."""
        shown = self._shown()
        if not shown:
            raise AssertionError(f"the bot has sent nothing to chat {self.chat_id}")
        return shown[-1].display_text

    def texts_since(self, n: int) -> list[str]:
        """Return the words of bot messages from index n of messages() on, except deleted ones."""
        return [m.display_text for m in self.messages()[n:] if not m.deleted]

    def buttons(self) -> list[str]:
        """Return the labels on the newest bot message with an inline keyboard."""
        return [button["text"] for button in self._newest_keyboard().inline_buttons()]

    def _shown(self) -> list[BotMessage]:
        """Return the bot messages the user can still see."""
        return [m for m in self.messages() if not m.deleted]

    def _newest_keyboard(self) -> BotMessage:
        """Return the newest visible bot message that carries an inline keyboard."""
        for message in reversed(self._shown()):
            if message.inline_buttons():
                return message
        texts = "\n".join(f"  {m.display_text!r}" for m in self._shown()[-5:])
        raise AssertionError(f"no bot message with buttons in chat {self.chat_id}; last:\n{texts}")


def _pick_button(message: BotMessage, label: str) -> str:
    """Return the callback data of the one button matching a label, or fail listing buttons."""
    buttons = message.inline_buttons()
    matches = [b for b in buttons if b["text"] == label]
    if not matches:
        matches = [b for b in buttons if label in b["text"]]
    available = ", ".join(repr(b["text"]) for b in buttons)
    if len(matches) != 1:
        problem = "no button" if not matches else "more than one button"
        raise AssertionError(
            f"{problem} labelled {label!r} on message {message.message_id}; buttons: {available}"
        )
    data = matches[0].get("callback_data")
    if data is None:
        raise AssertionError(
            f"button {label!r} has no callback_data (it is not a callback button)"
        )
    return str(data)
