"""`python app.py` started on a free local port, for the app and browser tests."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
STARTUP_SECONDS = 180


def free_port() -> int:
    """A port nothing listens on right now, on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_up(url: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"app.py exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"app.py did not answer in {STARTUP_SECONDS} s:\n{log_path.read_text()}")


@contextlib.contextmanager
def running_app(index_dir: Path, log_path: Path, corpus: Path = SAMPLES) -> Iterator[str]:
    """The URL of `python app.py --corpus corpus --index index_dir`, stopped on exit."""
    port = free_port()
    env = {
        **os.environ,
        "GRADIO_SERVER_NAME": "127.0.0.1",
        "GRADIO_SERVER_PORT": str(port),
        "GRADIO_ANALYTICS_ENABLED": "False",
        "HF_HUB_OFFLINE": "1",
    }
    command = [sys.executable, str(ROOT / "app.py"), "--corpus", str(corpus)]
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [*command, "--index", str(index_dir)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            url = f"http://127.0.0.1:{port}/"
            _wait_until_up(url, process, log_path)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=30)
