"""Settings: defaults, and one clear line naming each bad setting."""

import pytest

from bot.settings import SettingsError, load_settings

TOKEN = "123456789:AAEabcdefghijklmnopqrstuvwxyz012345"
NAMES = [
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_API_URL",
    "HEARD_DATABASE",
    "HEARD_CONVERSATIONS",
    "HEARD_ADMINS",
    "HEARD_TIMEZONE",
    "HEARD_DEFAULT_FLOW",
    "HEARD_LOG_LEVEL",
    "HEARD_UNSAFE_DEBUG_LOGS",
]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)


def test_settings_defaults_without_env_file():
    settings = load_settings(None)
    assert settings.telegram_bot_token is None
    assert settings.telegram_api_url == "https://api.telegram.org/bot"
    assert str(settings.heard_database) == "heard.db"
    assert settings.heard_conversations is None
    assert settings.heard_admins == ()
    assert settings.heard_timezone == "Europe/London"


def test_settings_read_from_env_file(tmp_path):
    env = tmp_path / ".env"
    env.write_text(
        f"TELEGRAM_BOT_TOKEN={TOKEN}\n"
        "TELEGRAM_API_URL=http://127.0.0.1:8081/bot/\n"
        "HEARD_ADMINS=12, 34\n"
        "HEARD_TIMEZONE=Europe/Dublin\n"
        "SOMETHING_ELSE=ignored\n"
    )
    settings = load_settings(env)
    assert settings.require_token() == TOKEN
    assert settings.telegram_api_url == "http://127.0.0.1:8081/bot"
    assert settings.heard_admins == (12, 34)
    assert settings.zone.key == "Europe/Dublin"


def test_settings_environment_overrides_env_file(tmp_path, monkeypatch):
    env = tmp_path / ".env"
    env.write_text("HEARD_DATABASE=from-file.db\n")
    monkeypatch.setenv("HEARD_DATABASE", "from-env.db")
    assert str(load_settings(env).heard_database) == "from-env.db"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("HEARD_ADMINS", "12,abc", "HEARD_ADMINS is not valid ('12,abc'): expected Telegram user"),
        ("HEARD_TIMEZONE", "Mars/Base", "HEARD_TIMEZONE is not valid ('Mars/Base'): expected a"),
        ("TELEGRAM_API_URL", "ftp://x", "TELEGRAM_API_URL is not valid ('ftp://x'): expected"),
        ("HEARD_LOG_LEVEL", "LOUD", "HEARD_LOG_LEVEL is not valid ('LOUD'): expected one of"),
        (
            "HEARD_UNSAFE_DEBUG_LOGS",
            "maybe",
            "HEARD_UNSAFE_DEBUG_LOGS is not valid ('maybe'): expected true or false",
        ),
        ("TELEGRAM_BOT_TOKEN", "not-a-token", "TELEGRAM_BOT_TOKEN is not valid: expected a bot"),
        ("HEARD_CONVERSATIONS", "/no/such/folder", "HEARD_CONVERSATIONS is not valid ('/no/"),
    ],
)
def test_settings_bad_value_names_the_setting(monkeypatch, name, value, expected):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings(None)
    message = str(caught.value).replace(" (got ", " (")
    assert message.startswith(expected)
    assert "\n" not in message
    assert "not-a-token" not in str(caught.value)


def test_settings_missing_token_is_named_only_when_needed():
    settings = load_settings(None)
    with pytest.raises(SettingsError, match=r"^TELEGRAM_BOT_TOKEN is not set: expected"):
        settings.require_token()


def test_settings_every_setting_is_documented():
    from pathlib import Path

    from bot.settings import Settings

    root = Path(__file__).resolve().parents[2]
    example = (root / ".env.example").read_text(encoding="utf-8")
    readme = (root / "README.md").read_text(encoding="utf-8")
    for field in Settings.model_fields:
        name = field.upper()
        assert f"{name}=" in example, f"{name} is missing from .env.example"
        assert f"`{name}`" in readme, f"{name} is missing from the README's table"


def test_settings_backup_schedule(tmp_path):
    settings = load_settings(None)
    assert settings.heard_backup_dir is None
    assert settings.heard_backup_keep == 7
    assert settings.backup_time.isoformat() == "03:30:00"
    settings = load_settings(None, heard_backup_dir=tmp_path, heard_backup_time="4:05")
    assert settings.heard_backup_dir == tmp_path
    assert (settings.backup_time.hour, settings.backup_time.minute) == (4, 5)
    assert settings.backup_time.tzinfo == settings.zone
    assert load_settings(None, heard_backup_dir="").heard_backup_dir is None


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("HEARD_BACKUP_DIR", "/no/such/folder", "an existing folder for the daily backups"),
        ("HEARD_BACKUP_KEEP", "0", "how many daily backups to keep"),
        ("HEARD_BACKUP_KEEP", "many", "how many daily backups to keep"),
        ("HEARD_BACKUP_TIME", "25:00", "a local time of day in HEARD_TIMEZONE, like 03:30"),
        ("HEARD_BACKUP_TIME", "3pm", "a local time of day in HEARD_TIMEZONE, like 03:30"),
    ],
)
def test_settings_a_bad_backup_setting_is_named(monkeypatch, name, value, expected):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as error:
        load_settings(None)
    assert str(error.value).startswith(f"{name} is not valid (got {value!r}): expected ")
    assert expected in str(error.value)
