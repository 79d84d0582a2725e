"""`corpus serve` with several server processes on one port: all answer, a process that dies is
replaced, and none outlives the command (SIGTERM or SIGKILL)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

import pytest
from conftest import ROOT, SAMPLE, children_of, process_alive

from corpus.ingest import ingest_paths
from corpus.settings import Settings
from indexer.keyword import build_index

pytestmark = pytest.mark.skipif(not hasattr(os, "fork") or not os.path.exists("/proc"), reason="needs fork and /proc")


def _get(url: str) -> int:
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.status


@pytest.fixture
def server(tmp_path):
    data = tmp_path / "data"
    s = Settings(data_dir=data, semantic=False)
    ingest_paths(s, [SAMPLE])
    build_index(s)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "CORPUS_SEMANTIC": "0"}
    proc = subprocess.Popen([sys.executable, "-m", "corpus", "--data", str(data), "serve", "--port", "0",
                             "--workers", "2"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    line = proc.stdout.readline()
    m = re.search(r"(http://127\.0\.0\.1:\d+)/.*2 server processes", line)
    assert m, line
    yield proc, m.group(1)
    if proc.poll() is None:
        proc.kill()
    proc.wait(10)


def test_processes_answer_are_replaced_and_end_with_the_command(server):
    proc, url = server
    q = url + "/search?q=%E8%A6%81%E7%B4%A0%E4%BF%9D%E9%9A%9C"  # 要素保障
    assert all(_get(q) == 200 for _ in range(6))
    deadline = time.monotonic() + 30
    while len(kids := children_of(proc.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(kids) == 2
    os.kill(kids[0], signal.SIGKILL)  # a server process crashes: another takes its place
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        now = [k for k in children_of(proc.pid) if process_alive(k)]
        if len(now) == 2 and kids[0] not in now:
            break
        time.sleep(0.1)
    assert len(now) == 2 and kids[0] not in now
    assert _get(q) == 200
    proc.send_signal(signal.SIGKILL)  # the command is killed: no server process may keep the port
    proc.wait(10)
    deadline = time.monotonic() + 5
    while any(process_alive(k) for k in now) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [k for k in now if process_alive(k)]


def test_sigterm_stops_every_process(server):
    proc, url = server
    assert _get(url + "/") == 200
    kids = children_of(proc.pid)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(15) == 0
    deadline = time.monotonic() + 5
    while any(process_alive(k) for k in kids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [k for k in kids if process_alive(k)]
