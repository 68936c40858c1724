"""Real outages for tests: a private Redis, a cuttable TCP proxy, a SQLite lock.

Outage tests use these instead of mocks, so the app meets the errors a real
outage raises (refused connections, connections dropped mid-query).
"""

import contextlib
import shutil
import socket
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import redis

from tests.helpers import free_port

REDIS_SERVER = shutil.which("redis-server")


class RedisServer:
    """A private ``redis-server`` on a free port, which a test may stop and restart.

    It keeps nothing on disk, so a restarted server starts empty, as a
    replaced Redis would.
    """

    def __init__(self, folder: Path):
        """Choose a port; ``folder`` holds its working files and log."""
        self.folder = Path(folder)
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """The server's address, for REDIS_URL and the like."""
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        """A client for looking at what the app stored."""
        return redis.Redis(port=self.port, socket_connect_timeout=1)

    def start(self) -> None:
        """Start the server and wait until it answers."""
        command = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--dir", str(self.folder)]
        with (self.folder / "redis.log").open("a") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=log)
        deadline = time.monotonic() + 10
        while True:
            try:
                if self.client().ping():
                    return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def stop(self) -> None:
        """Stop the server; connections to its port are refused until restarted."""
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


class TcpProxy:
    """Forwards a local port to ``target``: ``cut()`` starts an outage, ``restore()``
    ends it.

    Cutting closes every forwarded connection (the client sees the server go
    away mid-conversation) and stops listening (new connections are refused),
    as a database server that stopped would.
    """

    def __init__(self, target: tuple[str, int]):
        """Listen on a free port for connections to forward to ``target``."""
        self.target = target
        self.port = free_port()
        self.lock = threading.Lock()
        self.sockets: set[socket.socket] = set()
        self.listener: socket.socket | None = None
        self.restore()

    def restore(self) -> None:
        """Accept and forward connections again, on the same port."""
        listener = socket.create_server(("127.0.0.1", self.port))
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        """Drop every connection and refuse new ones until ``restore()``."""
        listener, self.listener = self.listener, None
        if listener is not None:
            _close(listener)
        with self.lock:
            open_sockets, self.sockets = self.sockets, set()
        for sock in open_sockets:
            _close(sock)

    def close(self) -> None:
        """Stop for good."""
        self.cut()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut: the listener was closed
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                _close(client)
                continue
            with self.lock:
                self.sockets.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(
                    target=self._pump, args=(source, sink), daemon=True
                ).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        """Copy bytes one way until either side closes, then close both."""
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                _close(sock)
            with self.lock:
                self.sockets.difference_update((source, sink))


class SqliteLock:
    """Another process's hold on a SQLite database: ``BEGIN EXCLUSIVE`` until released.

    In WAL mode (the app's) readers carry on and every writer waits out its
    busy timeout, then gets "database is locked".
    """

    def __init__(self, path: str):
        """Remember which database file to lock."""
        self.path = path
        self.connection: sqlite3.Connection | None = None

    def hold(self) -> None:
        """Take the write lock and keep it."""
        self.connection = sqlite3.connect(self.path, isolation_level=None)
        self.connection.execute("BEGIN EXCLUSIVE")

    def release(self) -> None:
        """Let go of the lock."""
        if self.connection is not None:
            self.connection.execute("ROLLBACK")
            self.connection.close()
            self.connection = None


def _close(sock: socket.socket) -> None:
    """Shut a socket down at once (waking any thread blocked on it), then close."""
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
