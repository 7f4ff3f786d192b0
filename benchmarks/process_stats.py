"""What a process has used, read from /proc (Linux): peak memory and CPU time."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Usage:
    """A process's peak resident memory and the CPU time it used."""

    peak_kb: int
    cpu_seconds: float


def usage(pid: int | str = "self") -> Usage:
    """Return a running process's peak resident memory (VmHWM) and CPU time so far."""
    status = Path(f"/proc/{pid}/status").read_text()
    peak = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    # The fields after the command name, which is in brackets and may hold spaces.
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime and stime
    return Usage(int(peak.split()[1]), ticks / os.sysconf("SC_CLK_TCK"))
