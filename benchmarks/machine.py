"""The machine a benchmark ran on, for the header of its RESULTS.md section."""

import contextlib
import os
import platform
from pathlib import Path


def usable_cores() -> int:
    """Cores this process may run on (a container's or taskset's limit counts)."""
    return len(os.sched_getaffinity(0))


def machine() -> str:
    """CPU model, usable cores, load and Python."""
    model = platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{model}, {usable_cores()} usable cores, load {load} at start,"
        f" Python {platform.python_version()}"
    )
