"""CPU accounting from /proc: the server's CPU per request and each core's load.

Requests/s on a shared 2-core machine move with whatever else runs; the CPU
time gunicorn itself spends per request does much less, so it is reported
beside them.
"""

import contextlib
import os
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def process_seconds(pid: int) -> float:
    """User plus system CPU seconds used so far by one process (all threads)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat.rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def tree_seconds(pid: int) -> float:
    """CPU seconds of a process and its direct children (gunicorn's workers)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    total = 0.0
    for each in (pid, *map(int, children)):
        with contextlib.suppress(FileNotFoundError):  # a worker that just exited
            total += process_seconds(each)
    return total


def core_ticks() -> dict[str, tuple[int, int]]:
    """Busy and total ticks per CPU core, from /proc/stat."""
    ticks = {}
    for line in Path("/proc/stat").read_text().splitlines():
        name, *values = line.split()
        if name.startswith("cpu") and name != "cpu":
            numbers = [int(value) for value in values]
            idle = numbers[3] + numbers[4]  # idle + iowait
            ticks[name] = (sum(numbers) - idle, sum(numbers))
    return ticks


class Meter:
    """CPU used by a process tree, and core load, between start() and stop()."""

    def __init__(self, pid: int):
        """Measure the tree rooted at ``pid``."""
        self.pid = pid

    def start(self) -> None:
        """Take the first readings."""
        self.seconds = tree_seconds(self.pid)
        self.ticks = core_ticks()

    def stop(self, requests: int) -> dict:
        """CPU milliseconds per request and each core's busy percentage."""
        used = tree_seconds(self.pid) - self.seconds
        figures = {"server_cpu_ms": round(1000 * used / max(requests, 1), 2)}
        for name, (busy, total) in core_ticks().items():
            before_busy, before_total = self.ticks[name]
            share = (busy - before_busy) / max(total - before_total, 1)
            figures[f"{name}_busy_pct"] = round(100 * share)
        return figures
