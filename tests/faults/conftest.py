"""The fault suite reuses the bot fixtures: a fake Bot API server and Heard in-process."""

from tests.bot.conftest import (  # noqa: F401 - fixtures are found by name
    ADMIN_ID,
    SAFEGUARDING_CHAT,
    clock,
    database,
    fake,
    flows_dir,
    heard,
    make_user,
    user,
)
