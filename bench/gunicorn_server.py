"""Start and stop the app under gunicorn, pinned to one CPU core."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")


@dataclass(frozen=True)
class Settings:
    """The gunicorn worker model under test."""

    worker_class: str = "sync"
    workers: int = 4
    threads: int = 1

    def __str__(self) -> str:
        """A short label such as ``sync w=4`` or ``gthread w=2 t=4``."""
        label = f"{self.worker_class} w={self.workers}"
        return label if self.worker_class == "sync" else f"{label} t={self.threads}"

    @classmethod
    def parse(cls, text: str) -> "Settings":
        """Read ``sync:4`` or ``gthread:2x4`` (workers x threads)."""
        worker_class, _, size = text.partition(":")
        workers, _, threads = size.partition("x")
        if worker_class not in {"sync", "gthread"}:
            raise ValueError(f"worker class must be sync or gthread, not {text!r}")
        return cls(worker_class, int(workers), int(threads or 1))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def command(settings: Settings, port: int, core: int) -> list[str]:
    """The gunicorn command line, under ``taskset`` to pin it to ``core``."""
    return [
        "taskset",
        "-c",
        str(core),
        str(GUNICORN),
        "wsgi:app",
        f"--bind=127.0.0.1:{port}",
        f"--worker-class={settings.worker_class}",
        f"--workers={settings.workers}",
        f"--threads={settings.threads}",
        "--no-control-socket",
        "--log-level=warning",
    ]


def start(
    settings: Settings, env: dict[str, str], port: int, core: int, log: Path
) -> subprocess.Popen:
    """Start gunicorn and wait until it answers; its output goes to ``log``."""
    with log.open("ab") as output:
        process = subprocess.Popen(
            command(settings, port, core),
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_ready(process, f"http://127.0.0.1:{port}/donate", log)
    except BaseException:
        stop(process)
        raise
    return process


def wait_ready(process: subprocess.Popen, url: str, log: Path) -> None:
    """Poll ``url`` until it answers 200; fail if gunicorn exits first."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited early; see {log}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:  # refused while booting, or a worker still importing
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer within 30 s; see {log}")


def worker_pids(process: subprocess.Popen) -> list[int]:
    """The pids of the gunicorn master's worker processes."""
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    return [int(pid) for pid in children.read_text().split()]


def stop(process: subprocess.Popen) -> None:
    """Stop gunicorn gracefully, then by force if it lingers."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
