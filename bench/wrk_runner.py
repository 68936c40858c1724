"""Run one wrk scenario (a Lua script in bench/lua/) and read its summary."""

import json
import os
import subprocess
from pathlib import Path

LUA_DIR = Path(__file__).resolve().parent / "lua"
WRK = "/usr/bin/wrk"
MARKER = "BENCH_RESULT "
ERROR_FIELDS = ("connect_errors", "read_errors", "write_errors", "timeouts")


def command(
    script: str, url: str, args: list[str], load: dict, duration: float
) -> list[str]:
    """The wrk command line, under ``taskset`` to pin it to its own core."""
    return [
        "taskset",
        "-c",
        str(load["core"]),
        WRK,
        f"--threads={load['threads']}",
        f"--connections={load['connections']}",
        f"--duration={max(1, round(duration))}s",
        "--latency",
        f"--script={LUA_DIR / script}",
        url,
        "--",
        *args,
    ]


def run(script: str, url: str, args: list[str], load: dict, duration: float) -> dict:
    """Run wrk for ``duration`` seconds and return its figures."""
    env = {**os.environ, "LUA_PATH": f"{LUA_DIR}/?.lua;;"}
    result = subprocess.run(
        command(script, url, args, load, duration),
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=duration + 120,
    )
    for line in result.stdout.splitlines():
        if line.startswith(MARKER):
            return figures(json.loads(line.removeprefix(MARKER)))
    raise RuntimeError(f"wrk printed no summary:\n{result.stdout}\n{result.stderr}")


def figures(raw: dict) -> dict:
    """Requests/s, latency percentiles in ms and errors from wrk's raw summary.

    wrk counts statuses above 399 itself ("Non-2xx or 3xx responses"); our
    Lua counts every status other than the scenario's success status, which
    includes those, so errors = socket errors + timeouts + unexpected statuses.
    """
    seconds = raw["duration_us"] / 1e6
    errors = sum(raw[field] for field in ERROR_FIELDS) + raw["unexpected_status"]
    return {
        "requests": raw["requests"],
        "seconds": round(seconds, 2),
        "rps": round(raw["requests"] / seconds, 1),
        "p50_ms": round(raw["p50_us"] / 1000, 2),
        "p95_ms": round(raw["p95_us"] / 1000, 2),
        "p99_ms": round(raw["p99_us"] / 1000, 2),
        "max_ms": round(raw["max_us"] / 1000, 2),
        "errors": errors,
        "raw": raw,
    }
