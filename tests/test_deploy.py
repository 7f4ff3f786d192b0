"""The systemd units in deploy/ keep their essential settings (CI also runs systemd-analyze)."""

from __future__ import annotations

import shlex
from pathlib import Path

from bot.cli import main

ROOT = Path(__file__).parent.parent
DEPLOY = ROOT / "deploy"


def unit(name: str) -> dict[str, dict[str, list[str]]]:
    """Read a unit file: each section's keys, each with every value given (keys may repeat)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for raw in (DEPLOY / name).read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        key, sep, value = line.partition("=")
        assert sep, f"{name}: not key=value: {raw!r}"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def only(section: dict[str, list[str]], key: str) -> str:
    values = section.get(key, [])
    assert len(values) == 1, f"{key}: {values}"
    return values[0]


def test_deploy_service_runs_heard_as_its_own_user_in_a_read_only_system():
    service = unit("heard.service")["Service"]

    assert only(service, "User") == only(service, "Group") == "heard"
    command = shlex.split(only(service, "ExecStart"))
    assert command[0] == "/opt/heard/.venv/bin/heard"
    assert command[-1] == "run"
    assert command[command.index("--env-file") + 1] == "/etc/heard/heard.env"
    assert only(service, "ProtectSystem") == "strict"
    assert only(service, "PrivateTmp") == "yes"
    assert only(service, "NoNewPrivileges") == "yes"
    assert only(service, "ProtectHome") == "yes"
    assert only(service, "UMask") == "0077"
    assert only(service, "CapabilityBoundingSet") == ""


def test_deploy_service_may_write_only_to_its_data_folder_where_the_database_is():
    service = unit("heard.service")["Service"]

    data = only(service, "WorkingDirectory")
    assert data == "/var/lib/heard"
    assert only(service, "ReadWritePaths").split() == [data]
    assert only(service, "StateDirectory") == "heard"
    assert only(service, "StateDirectoryMode") == "0700"


def test_deploy_service_restarts_after_a_crash_but_not_after_exit_status_2():
    sections = unit("heard.service")
    service = sections["Service"]

    assert only(service, "Restart") == "on-failure"
    assert only(service, "RestartPreventExitStatus").split() == ["2"]
    # A crash loop stops too, so the journal shows the cause instead of endless restarts.
    assert int(only(sections["Unit"], "StartLimitBurst")) <= 10
    assert only(sections["Install"], "WantedBy") == "multi-user.target"


def test_deploy_exit_status_2_is_what_heard_run_gives_a_bad_setting(tmp_path, capsys):
    settings = tmp_path / "heard.env"
    settings.write_text("TELEGRAM_BOT_TOKEN=not-a-token\n", encoding="utf-8")
    stops = unit("heard.service")["Service"]["RestartPreventExitStatus"][0].split()

    status = main(["--env-file", str(settings), "run"])

    assert str(status) in stops
    assert "TELEGRAM_BOT_TOKEN" in capsys.readouterr().err


def test_deploy_backup_runs_daily_as_heard_into_the_backup_folder():
    service = unit("heard-backup.service")["Service"]
    timer = unit("heard-backup.timer")

    assert only(service, "User") == "heard"
    assert only(service, "Type") == "oneshot"
    assert " backup " in only(service, "ExecStart")
    assert "/var/backups/heard/" in only(service, "ExecStart")
    assert only(service, "ReadWritePaths").split() == ["/var/lib/heard", "/var/backups/heard"]
    assert only(service, "ProtectSystem") == "strict"
    assert only(service, "PrivateNetwork") == "yes"
    assert only(timer["Timer"], "Persistent") == "true"
    assert only(timer["Install"], "WantedBy") == "timers.target"


def test_deploy_unit_reader_keeps_repeated_keys_and_sections(tmp_path, monkeypatch):
    (tmp_path / "x.service").write_text(
        "# comment\n[Service]\nA=1\nA=2 3\n\n[Install]\nB=\n", encoding="utf-8"
    )
    monkeypatch.setattr(f"{__name__}.DEPLOY", tmp_path)

    assert unit("x.service") == {"Service": {"A": ["1", "2 3"]}, "Install": {"B": [""]}}
