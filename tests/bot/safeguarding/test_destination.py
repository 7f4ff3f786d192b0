"""The safeguarding chat check says, in one line, why alerts could not reach staff."""

import time

import pytest
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.safeguarding.destination import UNSET, AlertChatCheck, check_alert_chat, probe_alert_chat

STAFF = -1_001_234_567_890
LEAD = 4242


@pytest.fixture
async def bot(fake):
    request = HTTPXRequest(read_timeout=0.3)
    async with Bot(fake.token, base_url=fake.base_url, request=request) as client:
        yield client


async def test_destination_unset_chat_says_where_alerts_go_instead(bot):
    check = await check_alert_chat(bot, None)

    assert check == AlertChatCheck(ok=False, problem=UNSET)
    assert check.problem is not None
    assert check.problem.startswith("HEARD_SAFEGUARDING_CHAT is not set: ")
    assert "safeguarding role, or to the admins" in check.problem


@pytest.mark.parametrize("status", ["member", "administrator"])
async def test_destination_group_the_bot_is_in_is_ok(fake, bot, status):
    fake.add_bot_to_group(STAFF, status=status)

    assert await check_alert_chat(bot, STAFF) == AlertChatCheck(ok=True)
    assert [c.method for c in fake.calls[-2:]] == ["getChat", "getChatMember"]
    assert fake.chat_messages(STAFF) == []  # checking posts nothing


async def test_destination_group_a_staff_member_wrote_in_is_ok(fake, bot):
    fake.send_text(8001, "hello all", chat_id=-5, chat_type="group")

    assert (await check_alert_chat(bot, -5)).ok


async def test_destination_private_chat_with_a_person_is_ok(fake, bot):
    fake.add_private_chat(LEAD, first_name="Jo")

    assert await check_alert_chat(bot, LEAD) == AlertChatCheck(ok=True)


async def test_destination_chat_not_found_says_add_the_bot(bot):
    check = await check_alert_chat(bot, STAFF)

    assert not check.ok
    assert check.problem == (
        f"HEARD_SAFEGUARDING_CHAT ({STAFF}): Telegram knows no such chat for the bot: add the "
        "bot to the staff group and write a message there, or fix the id"
    )


async def test_destination_removed_bot_says_add_it_again(fake, bot):
    fake.add_bot_to_group(STAFF)
    fake.remove_bot_from_group(STAFF)

    check = await check_alert_chat(bot, STAFF)

    assert not check.ok
    assert check.problem == (
        f"HEARD_SAFEGUARDING_CHAT ({STAFF}): the bot was removed from the group (Forbidden: bot "
        "was kicked from the supergroup chat): add it to the staff group again, or fix the id"
    )


async def test_destination_restricted_bot_says_let_it_send(fake, bot):
    fake.add_bot_to_group(STAFF, title="Safeguarding team", status="restricted")

    check = await check_alert_chat(bot, STAFF)

    assert not check.ok
    assert check.problem == (
        f"HEARD_SAFEGUARDING_CHAT ({STAFF}): the bot may not send messages in 'Safeguarding "
        "team': let members send messages, or make the bot an admin, in the group's settings"
    )


async def test_destination_channel_says_alerts_need_a_group(fake, bot):
    fake.send_text(1, "news", chat_id=-100_555, chat_type="channel")

    check = await check_alert_chat(bot, -100_555)

    assert not check.ok
    assert check.problem is not None
    assert check.problem.startswith(
        "HEARD_SAFEGUARDING_CHAT (-100555): 'Test channel' is a channel, and alerts need a group"
    )
    assert [c.method for c in fake.calls[-1:]] == ["getChat"]


async def test_destination_timeout_says_could_not_check_and_alerts_will_be_retried(fake, bot):
    fake.add_bot_to_group(STAFF)
    fake.chaos(seed=1, error_rate=0.0, timeout_rate=1.0, hang_seconds=0.6, methods=["getChat"])

    check = await check_alert_chat(bot, STAFF)

    assert not check.ok
    assert check.problem == (
        f"HEARD_SAFEGUARDING_CHAT ({STAFF}): could not check: Timed out; alerts will be retried "
        "until they are delivered"
    )
    await fake.wait_for(lambda: bool(fake.calls_of("getChat")), timeout=2)


async def test_destination_other_telegram_errors_are_problems_not_exceptions(fake, bot):
    fake.add_bot_to_group(STAFF)
    fake.fail_next("getChatMember", error_code=502, description="Bad Gateway")

    check = await check_alert_chat(bot, STAFF)

    assert not check.ok
    assert check.problem is not None
    assert "could not check: Bad Gateway; alerts will be retried" in check.problem


async def test_destination_probe_builds_its_own_bot_and_shuts_it_down(fake):
    fake.add_bot_to_group(STAFF)

    check = await probe_alert_chat(fake.token, fake.base_url, STAFF)

    assert check.ok
    assert [c.method for c in fake.calls] == ["getMe", "getChat", "getChatMember"]


async def test_destination_probe_of_an_unreachable_api_gives_up_quickly():
    started = time.monotonic()
    # Port 9 on loopback: nothing listens there, so the connection is refused at once.
    check = await probe_alert_chat("123456:TEST-token", "http://127.0.0.1:9/bot", STAFF, 5)

    assert time.monotonic() - started < 5
    assert check.problem is not None
    assert check.problem.startswith(f"HEARD_SAFEGUARDING_CHAT ({STAFF}): could not check: ")
    assert check.problem.endswith("; alerts will be retried until they are delivered")


async def test_destination_probe_of_a_rejected_token_does_not_show_it(fake):
    check = await probe_alert_chat("123456:WRONG-token", fake.base_url, STAFF)

    assert check.problem == (
        f"HEARD_SAFEGUARDING_CHAT ({STAFF}): could not check: Telegram rejected "
        "TELEGRAM_BOT_TOKEN; alerts will be retried until they are delivered"
    )
