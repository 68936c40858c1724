"""A private nginx running deploy/nginx/campaign-locations.conf in front of an
app server, for the benchmarks and tests/test_nginx.py (one config, both)."""

import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

NGINX = shutil.which("nginx") or (
    "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
)
LOCATIONS = Path(__file__).resolve().parents[1] / "deploy/nginx/campaign-locations.conf"

CONFIG = """
user root;
daemon off;
worker_processes {workers};
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    proxy_cache_path {tmp}/cache levels=1:2 keys_zone=campaign:10m
                     inactive=10m use_temp_path=off;
    upstream campaign_app {{ server 127.0.0.1:{app_port}; keepalive 16; }}
    server {{
        listen 127.0.0.1:{port};
        set $campaign_root {root};
        include {locations};
    }}
}}
"""


def start(
    folder: Path, app_port: int, port: int, root: Path, workers=1, core=None
) -> subprocess.Popen:
    """Start nginx on ``port`` in front of ``app_port`` (pinned to ``core`` if
    given, beside the app server); wait until it answers."""
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "nginx.conf"
    config.write_text(
        CONFIG.format(
            tmp=folder,
            app_port=app_port,
            port=port,
            root=root,
            locations=LOCATIONS,
            workers=workers,
        )
    )
    pin = [] if core is None else ["taskset", "-c", str(core)]
    process = subprocess.Popen(
        [*pin, NGINX, "-p", str(folder), "-c", str(config)],
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
            return process
        except OSError:
            time.sleep(0.05)
    process.terminate()
    raise RuntimeError("nginx did not start: see " + str(folder / "error.log"))


def stop(process: subprocess.Popen) -> None:
    """Stop nginx and wait for it."""
    process.terminate()
    process.wait(10)
