"""Settings that leave the bot token, or what people write, open to others: said in one line each.

Two are easy to miss: a `.env` copied from `.env.example` is readable by every account on the
machine (0644), and holds the token; a TELEGRAM_API_URL of plain http:// to another machine
sends the token and every message across the network unencrypted. `heard run` logs these
lines and `heard check` prints them; neither stops the bot.
"""

from __future__ import annotations

import ipaddress
import stat
from pathlib import Path
from urllib.parse import urlsplit

from bot.settings import Settings


def exposure_warnings(settings: Settings, env_file: str | Path | None) -> list[str]:
    """Return one line for each way the settings leave the token or people's words exposed."""
    found = [] if env_file is None else [env_file_warning(Path(env_file))]
    found.append(api_url_warning(settings.telegram_api_url))
    return [line for line in found if line is not None]


def env_file_warning(path: Path) -> str | None:
    """Say so if the settings file can be read by the file's group or by other accounts."""
    try:
        found = path.stat()
    except OSError:
        return None  # no file (settings from the environment), or none we can see
    mode = stat.S_IMODE(found.st_mode)
    if not stat.S_ISREG(found.st_mode) or not mode & 0o044:
        return None
    return (
        f"{path} can be read by other accounts on this machine (mode {mode:04o}) and holds "
        f"the bot token: make it private with `chmod 600 {path}`"
    )


def api_url_warning(url: str) -> str | None:
    """Say so if TELEGRAM_API_URL is plain http:// to anywhere but this machine."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme != "http" or _loopback(host):
        return None
    return (
        f"TELEGRAM_API_URL is plain http:// to {host}, not this machine: the bot token and "
        "every message cross the network unencrypted; use https://, or http:// only to a "
        "Bot API server on 127.0.0.1"
    )


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
