"""The log holds no secrets and no personal data at any level, unless the unsafe opt-in is on."""

import logging

import pytest

from bot.logs import FLOORS, REDACTED, UNSAFE_WARNING, TokenFilter, configure_logging
from tests.support.bot_harness import BotProcess, bot_environment
from tests.support.chat_user import ChatUser
from tests.support.chat_user import until_read as until

TOKEN = "123456:TEST-token-0123456789abcdefghij"
USER_ID = 73_919_264
FIRST_NAME = "Wilhelmina"
USERNAME = "wilhelmina_kestrel"
TYPED = "the waiting room smelled of lavender"


@pytest.fixture
def restored_logging():
    """Put the root handlers' filters and the libraries' levels back after a test."""
    root = logging.getLogger()
    handlers = {handler: list(handler.filters) for handler in root.handlers}
    levels = {name: logging.getLogger(name).level for name in [*FLOORS, "heard"]}
    yield
    for handler, filters in handlers.items():
        handler.filters[:] = filters
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def record(message, *args, exc_info=None):
    return logging.LogRecord("httpx", logging.INFO, __file__, 1, message, args, exc_info)


def test_logs_token_filter_redacts_messages_arguments_and_tracebacks():
    guard = TokenFilter([TOKEN])
    url = record("HTTP Request: POST %s", f"http://127.0.0.1:1/bot{TOKEN}/getMe")
    assert guard.filter(url)
    assert url.getMessage() == f"HTTP Request: POST http://127.0.0.1:1/bot{REDACTED}/getMe"
    try:
        raise ConnectionError(f"cannot connect to /bot{TOKEN}/getUpdates")
    except ConnectionError as error:
        failed = record("polling failed", exc_info=(type(error), error, error.__traceback__))
    assert guard.filter(failed)
    written = logging.Formatter().format(failed)
    assert TOKEN not in written
    assert f"/bot{REDACTED}/getUpdates" in written


def test_logs_libraries_are_held_at_their_floors(restored_logging, caplog):
    configure_logging("DEBUG", TOKEN)
    assert logging.getLogger("telegram").level == logging.INFO
    for name in ("httpx", "httpcore", "apscheduler"):
        assert logging.getLogger(name).level == logging.WARNING, name
    assert any(isinstance(f, TokenFilter) for h in logging.getLogger().handlers for f in h.filters)
    assert UNSAFE_WARNING not in caplog.text
    configure_logging("ERROR", TOKEN)
    assert logging.getLogger("apscheduler").level == logging.ERROR


def test_logs_unsafe_opt_in_lifts_the_floors_and_warns(restored_logging, caplog):
    configure_logging("DEBUG", TOKEN, unsafe=True)
    for name in FLOORS:
        assert logging.getLogger(name).level == logging.DEBUG, name
    assert UNSAFE_WARNING in caplog.text


async def converse(fake, process):
    """Go through the sample conversation as a named user with a username; return the log."""
    user = ChatUser(
        fake, USER_ID, settle=lambda update_id: until(fake, lambda: True), first_name=FIRST_NAME
    )
    await process.start(fake)
    fake.send_text(USER_ID, "/start", first_name=FIRST_NAME, username=USERNAME)
    for button in ("Yes, I'm 18 or older", "Yes, I agree"):
        await until(fake, lambda button=button: button in user.buttons())
        await user.press(button)
    await until(fake, lambda: "Question 1" in user.last_text())
    await user.press("Yes")
    await until(fake, lambda: "Question 2" in user.last_text())
    await user.press("4")
    await until(fake, lambda: "Question 3" in user.last_text())
    await user.send("1 3")
    await until(fake, lambda: "Question 4" in user.last_text())
    await user.press("Phone")
    await until(fake, lambda: "What one thing would you change?" in user.last_text())
    await user.send(TYPED)
    await until(fake, lambda: "What one thing would you change?" not in user.last_text())
    assert process.terminate() == 0
    return process.log.read_text()


@pytest.fixture
def debug_env(fake, flows_dir, database):
    env = bot_environment(fake, database, flows_dir, "sample")
    env.update(HEARD_LOG_LEVEL="DEBUG")
    return env


@pytest.mark.slow
async def test_logs_a_whole_conversation_at_debug_holds_nothing_personal(
    fake, debug_env, tmp_path
):
    process = BotProcess(debug_env, tmp_path / "bot.log")
    try:
        text = await converse(fake, process)
    finally:
        if process.process is not None and process.process.poll() is None:
            process.kill()
    assert " DEBUG " in text  # the level is really on
    assert " started: database " in text
    for secret in (fake.token, str(USER_ID), FIRST_NAME, USERNAME, TYPED, "lavender"):
        assert secret not in text, secret
    assert " apscheduler" not in text
    assert UNSAFE_WARNING not in text


@pytest.mark.slow
async def test_logs_the_unsafe_opt_in_shows_people_but_never_the_token(fake, debug_env, tmp_path):
    debug_env["HEARD_UNSAFE_DEBUG_LOGS"] = "true"
    process = BotProcess(debug_env, tmp_path / "bot.log")
    try:
        text = await converse(fake, process)
    finally:
        if process.process is not None and process.process.poll() is None:
            process.kill()
    assert UNSAFE_WARNING in text
    # What the safe log leaves out is there (so the test above would see it), the token not.
    assert FIRST_NAME in text
    assert TYPED in text
    assert fake.token not in text
    assert REDACTED in text
