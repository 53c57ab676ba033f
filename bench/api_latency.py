"""Warm latency of the data API on a loaded server: /api/info (each form), /api/select,
/api/models/{id}.

    python bench/make_artifacts.py --models 5000 --out /tmp/gen5000
    python bench/api_latency.py --project-dir /tmp/gen5000 --requests 50

Starts the real `recce-trio server`, waits until it is ready, then times sequential requests
over one keep-alive connection (full response read), and prints p50/p99/max per endpoint,
with the response size as sent (compressed where the case asks for it). The first request of
each kind is reported apart (cold).
"""

from __future__ import annotations

import argparse
import http.client
import json
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def timed(  # type: ignore[no-untyped-def]
    conn: http.client.HTTPConnection,
    method: str,
    path: str,
    body: object = None,
    encoding: str = "identity",
):
    payload = None if body is None else json.dumps(body)
    headers = {"Content-Type": "application/json"} if body is not None else {}
    headers["Accept-Encoding"] = encoding
    start = time.perf_counter()
    conn.request(method, path, body=payload, headers=headers)
    response = conn.getresponse()
    data = response.read()
    elapsed = time.perf_counter() - start
    if response.status != 200:
        raise RuntimeError(f"{method} {path} answered {response.status}: {data[:200]!r}")
    return elapsed, data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--project-dir", type=Path, required=True)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "recce_trio", "server", "--port", str(port),
         "--project-dir", str(args.project_dir), "--log-level", "warning", "--no-watch"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        deadline = time.monotonic() + 600
        while True:
            try:
                _, body = timed(conn, "GET", "/api/health")
                if json.loads(body)["ready"]:
                    break
            except (ConnectionError, http.client.HTTPException):
                conn.close()
            if time.monotonic() > deadline:
                raise RuntimeError("server never became ready")
            time.sleep(0.05)
        _, info = timed(conn, "GET", "/api/info")
        nodes = json.loads(info)["lineage"]["nodes"]
        a_model = next(
            uid for uid, node in nodes.items() if uid.startswith("model.") and "change" in node
        )
        select = "/api/select"
        cases = {
            "GET /api/info": ("GET", "/api/info", None),
            "GET /api/info (br)": ("GET", "/api/info", None, "br"),
            "GET /api/info (gzip)": ("GET", "/api/info", None, "gzip"),
            "GET /api/info?lineage=page (br)": ("GET", "/api/info?lineage=page", None, "br"),
            "GET /api/info?lineage=full": ("GET", "/api/info?lineage=full", None),
            "POST /api/select state:modified+": ("POST", select, {"select": "state:modified+"}),
            "POST /api/select changed_models": ("POST", select, {"view_mode": "changed_models"}),
            "POST /api/select tag:finance,+fct_*": (
                "POST",
                select,
                {"select": "tag:finance,+fct_*"},
            ),
            "GET /api/models/{id}": ("GET", f"/api/models/{a_model}", None),
            "GET /api/models/{id} (br)": ("GET", f"/api/models/{a_model}", None, "br"),
        }
        print(f"{args.project_dir}, {args.requests} sequential requests each, ms\n")
        print(f"{'endpoint':<38} {'cold':>7} {'p50':>7} {'p99':>7} {'max':>7} {'size':>10}")
        for name, (method, path, body, *encoding) in cases.items():
            cold, data = timed(conn, method, path, body, *encoding)
            times = [timed(conn, method, path, body, *encoding)[0] for _ in range(args.requests)]
            times.sort()
            p99 = times[min(len(times) - 1, round(0.99 * (len(times) - 1)))]
            print(
                f"{name:<38} {cold * 1000:7.1f} {statistics.median(times) * 1000:7.1f} "
                f"{p99 * 1000:7.1f} {times[-1] * 1000:7.1f} {len(data) / 1e6:8.2f} MB"
            )
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)


if __name__ == "__main__":
    main()
