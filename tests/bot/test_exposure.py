"""A settings file others can read and plain http:// to another machine: one warning line each."""

import logging
import os

import pytest

from bot.cli import main
from bot.exposure import api_url_warning, env_file_warning, exposure_warnings
from bot.settings import load_settings

TOKEN = "123456:TEST-token-0123456789abcdefghij"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in list(os.environ):
        if name.startswith(("HEARD_", "TELEGRAM_")):
            monkeypatch.delenv(name)


def env_file(tmp_path, mode, **settings):
    path = tmp_path / ".env"
    path.write_text("".join(f"{name}={value}\n" for name, value in settings.items()))
    path.chmod(mode)
    return path


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_env_file_warning_when_group_or_others_can_read_it(tmp_path, mode):
    path = env_file(tmp_path, mode)
    line = env_file_warning(path)
    assert line is not None
    assert f"mode {mode:04o}" in line
    assert f"chmod 600 {path}" in line


@pytest.mark.parametrize("mode", [0o600, 0o400, 0o620])
def test_env_file_warning_not_for_a_private_file(tmp_path, mode):
    assert env_file_warning(env_file(tmp_path, mode)) is None


def test_env_file_warning_not_for_a_missing_file_or_a_device(tmp_path):
    assert env_file_warning(tmp_path / "missing.env") is None
    assert env_file_warning(type(tmp_path)(os.devnull)) is None  # 0666, but not a file


@pytest.mark.parametrize(
    "url",
    [
        "https://api.telegram.org/bot",
        "https://192.0.2.7/bot",
        "http://127.0.0.1:8081/bot",
        "http://127.1.2.3/bot",
        "http://localhost:8081/bot",
        "http://[::1]:8081/bot",
    ],
)
def test_api_url_warning_not_for_https_or_this_machine(url):
    assert api_url_warning(url) is None


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("http://192.0.2.7:8081/bot", "192.0.2.7"),
        ("http://bot-api.example.org/bot", "bot-api.example.org"),
        ("http://[2001:db8::1]/bot", "2001:db8::1"),
        ("http://localhost.example.org/bot", "localhost.example.org"),
    ],
)
def test_api_url_warning_for_plain_http_elsewhere(url, host):
    line = api_url_warning(url)
    assert line is not None
    assert line.startswith(f"TELEGRAM_API_URL is plain http:// to {host}, not this machine")


def test_exposure_warnings_one_line_each(tmp_path):
    path = env_file(tmp_path, 0o644, TELEGRAM_API_URL="http://192.0.2.7/bot")
    found = exposure_warnings(load_settings(path), path)
    assert len(found) == 2
    assert all("\n" not in line for line in found)
    assert exposure_warnings(load_settings(None), None) == []


def test_cli_check_prints_each_warning(tmp_path, capsys):
    path = env_file(tmp_path, 0o644, TELEGRAM_API_URL="http://192.0.2.7/bot")
    assert main(["--env-file", str(path), "check"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert f"warning: {env_file_warning(path)}" in out
    assert f"warning: {api_url_warning('http://192.0.2.7/bot')}" in out
    assert sum("can be read by other accounts" in line for line in out) == 1
    path.chmod(0o600)
    path.write_text("TELEGRAM_API_URL=https://192.0.2.7/bot\n")
    assert main(["--env-file", str(path), "check"]) == 0
    again = capsys.readouterr().out
    assert "TELEGRAM_API_URL is plain" not in again
    assert "can be read by other accounts" not in again


def test_cli_run_logs_each_warning_before_starting(tmp_path, caplog, capsys):
    # The database's folder is missing: start-up stops before any call to the Bot API.
    path = env_file(
        tmp_path,
        0o644,
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_URL="http://192.0.2.7/bot",
        HEARD_DATABASE=tmp_path / "missing" / "heard.db",
    )
    with caplog.at_level(logging.WARNING, logger="heard"):
        assert main(["--env-file", str(path), "run"]) == 2
    logged = [r.getMessage() for r in caplog.records if r.name == "heard"]
    assert logged == [env_file_warning(path), api_url_warning("http://192.0.2.7/bot")]
    assert "HEARD_DATABASE: cannot open" in capsys.readouterr().err
