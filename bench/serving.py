"""Servers the benchmarks start: on a free 127.0.0.1 port, ready-checked, always stopped."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(
    argv: list[str], env: dict[str, str], port: int, ready: str, log_path: Path
) -> Iterator[str]:
    """Run `argv` (listening on `port`) until the block ends; yields its base URL once `ready`
    answers below 500. Its output goes to `log_path`."""
    log = log_path.open("w")
    proc = subprocess.Popen(argv, env={**os.environ, **env}, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + ready, timeout=5).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None:
                raise RuntimeError(f"{argv[0]} exited; see {log_path}")
            time.sleep(0.3)
        yield base
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
