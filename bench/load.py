"""Load test of the web UI: N concurrent clients against `corpus serve` on the bundled sample.

Starts the server itself (on 127.0.0.1, a free port, a temporary data directory with the sample
ingested and indexed) unless --url points at one already running; only loopback addresses are
accepted. Each client loops over a mix of pages (search pages, JSON search, documents, KWIC) on a
keep-alive connection. Bounded: --seconds (at most 300) and --max-requests. Prints requests/s,
p50/p95/p99 latency and the error count (any non-2xx answer or connection failure).

    .venv/bin/python bench/load.py --clients 8 --seconds 30
"""

from __future__ import annotations

import argparse
import http.client
import ipaddress
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

ROOT = Path(__file__).resolve().parents[1]
QUERIES = ["要素保障", "乡村振兴", "项目建设", '"重点项目"', "产业 融合", "城乡融合 发展", "营商环境", "高质量发展",
           "招商引资 OR 项目", "土地 -资金"]


def loopback_only(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if host != "localhost":
        try:
            if not ipaddress.ip_address(host).is_loopback:
                raise ValueError
        except ValueError:
            sys.exit(f"refusing {url}: the load test only targets loopback addresses (127.0.0.0/8, ::1, localhost)")
    return host, parts.port or 80


def prepare_data(data: Path) -> None:
    sys.path.insert(0, str(ROOT))
    from corpus.ingest import ingest_paths, sample_dir
    from corpus.settings import Settings
    from indexer.keyword import update_indexes

    settings = Settings(data_dir=data, semantic=False)
    ingest_paths(settings, [sample_dir()])
    update_indexes(settings, semantic=False)


def start_server(data: Path, threads: int) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "corpus", "--data", str(data), "serve", "--host", "127.0.0.1",
                             "--port", "0", "--threads", str(threads)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=ROOT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        m = re.search(r"(http://127\.0\.0\.1:\d+)/", line)
        if m:
            threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()  # drain the log
            return proc, m.group(1)
    proc.kill()
    sys.exit("the server did not start")


def request_mix(doc_ids: list[int]) -> list[str]:
    urls = []
    for q in QUERIES:
        urls.append("/?q=" + quote(q))
        urls.append("/api/search?q=" + quote(q))
        urls.append("/?q=" + quote(q) + "&page=2&scope=sentence")
    urls += [f"/doc/{d}" for d in doc_ids]
    urls += ["/kwic?q=" + quote("项目"), "/api/kwic?q=" + quote("要素保障"), "/collection", "/static/app.css"]
    return urls


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    ap.add_argument("--seconds", type=float, default=30.0, help="duration, at most 300 (default 30)")
    ap.add_argument("--max-requests", type=int, default=200_000, help="stop after this many requests in all")
    ap.add_argument("--threads", type=int, default=8, help="server worker threads when the bench starts it")
    ap.add_argument("--url", help="a running server on a loopback address (default: start one on the sample)")
    args = ap.parse_args()
    seconds = max(1.0, min(args.seconds, 300.0))
    clients = max(1, min(args.clients, 64))

    proc = None
    tmp = None
    if args.url:
        base = args.url.rstrip("/")
    else:
        tmp = tempfile.TemporaryDirectory(prefix="corpus-load-")
        data = Path(tmp.name) / "data"
        t0 = time.perf_counter()
        prepare_data(data)
        print(f"sample ingested and indexed in {time.perf_counter() - t0:.1f}s")
        proc, base = start_server(data, args.threads)
    host, port = loopback_only(base)

    try:
        conn = http.client.HTTPConnection(host, port, timeout=30)
        conn.request("GET", "/api/search?q=" + quote("项目") + "&per_page=100")
        import json

        hits = json.loads(conn.getresponse().read())["hits"]
        conn.close()
        doc_ids = sorted({h["doc_id"] for h in hits})[:10] or [1]
        urls = request_mix(doc_ids)

        latencies: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()
        count = [0]
        stop_at = time.monotonic() + seconds

        def client(seed: int) -> None:
            rnd = random.Random(seed)
            c = http.client.HTTPConnection(host, port, timeout=30)
            local_lat, local_err = [], []
            while time.monotonic() < stop_at:
                with lock:
                    if count[0] >= args.max_requests:
                        break
                    count[0] += 1
                url = rnd.choice(urls)
                t = time.perf_counter()
                try:
                    c.request("GET", url)
                    r = c.getresponse()
                    r.read()
                    if not 200 <= r.status < 300:
                        local_err.append(f"{r.status} {url}")
                except (OSError, http.client.HTTPException) as e:
                    local_err.append(f"{type(e).__name__} {url}")
                    c.close()
                    c = http.client.HTTPConnection(host, port, timeout=30)
                local_lat.append(time.perf_counter() - t)
            c.close()
            with lock:
                latencies.extend(local_lat)
                errors.extend(local_err)

        print(f"{clients} clients for {seconds:.0f}s against {base} ({len(urls)} URLs in the mix) ...")
        t0 = time.perf_counter()
        workers = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        elapsed = time.perf_counter() - t0
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        if tmp is not None:
            tmp.cleanup()

    n = len(latencies)
    lat = sorted(latencies)

    def pct(p: float) -> float:
        return lat[min(n - 1, int(p * n))] * 1000 if n else float("nan")

    print(f"requests: {n}  elapsed: {elapsed:.1f}s  requests/s: {n / elapsed:.1f}")
    print(f"latency ms: p50 {pct(0.50):.1f}  p95 {pct(0.95):.1f}  p99 {pct(0.99):.1f}  "
          f"mean {statistics.fmean(lat) * 1000 if n else float('nan'):.1f}")
    print(f"errors: {len(errors)}")
    for e in sorted(set(errors))[:10]:
        print("  ", e)
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
