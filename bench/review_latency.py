"""Review UI latency: median and p95 of the queue's first page and of item pages, served by the real app.

    uv run python bench/review_latency.py --identity data/identity
    uv run python bench/review_latency.py --identity /tmp/year/identity --items 50 --rounds 20 --check

The app (joinedup.review.app) runs in-process over the identity folder's store, driven through starlette's
TestClient (the whole ASGI stack: session, guard, routing, rendering), logged in as a temporary user. That user's
file and the session key live in a temporary folder, so the identity folder is only read: no user, no
decision, no key is written to it. Targets: an item page under 200 ms, the queue's first page under 1 s on a
council year's store. --check exits 1 when one is missed.
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGETS = {"queue first page": 1.0, "item page": 0.2}


def _p95(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(0.95 * len(xs)) - 1))]


def _timed(client, path: str) -> float:  # noqa: ANN001 - a starlette TestClient
    t = time.perf_counter()
    r = client.get(path)
    took = time.perf_counter() - t
    if r.status_code != 200:
        raise SystemExit(f"GET {path}: {r.status_code}")
    return took


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--identity", type=Path, required=True, help="identity folder holding identity.duckdb")
    ap.add_argument("--items", type=int, default=50, help="item pages to time (the queue's first ones)")
    ap.add_argument("--rounds", type=int, default=20, help="times the queue's first page is fetched")
    ap.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = ap.parse_args()

    from starlette.testclient import TestClient

    from joinedup.review.app import ReviewConfig, create_app
    from joinedup.review.queue import STORE_DB, Store, list_queue

    identity = args.identity.resolve()
    if not (identity / STORE_DB).exists():
        raise SystemExit(f"no identity store at {identity / STORE_DB}")
    store = Store(identity)
    size = {t: int(store.query(f"select count(*) as n from {t}")["n"].iloc[0])
            for t in ("contact_links", "review_queue", "review_contacts") if store.has(t)}
    ids = [r.contact_id for r in list_queue(store, limit=args.items).rows]
    if not ids:
        raise SystemExit("the review queue is empty: nothing to time")

    from joinedup.review.auth import add_user

    with tempfile.TemporaryDirectory(prefix="review-bench-") as tmp:
        users = Path(tmp) / "users.json"
        password = secrets.token_urlsafe(24)
        add_user(identity, "bench", password, path=users)
        app = create_app(ReviewConfig(identity, users, secrets.token_urlsafe(48), secure_cookie=False))
        with TestClient(app, base_url="http://127.0.0.1", follow_redirects=False) as client:
            token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
            r = client.post("/login", data={"username": "bench", "password": password, "csrf_token": token})
            if r.status_code != 303:
                raise SystemExit(f"could not log in: {r.status_code}")
            _timed(client, "/queue")  # warm: the store opened, templates compiled
            _timed(client, f"/item/{ids[0]}")
            queue = [_timed(client, "/queue") for _ in range(args.rounds)]
            items = [_timed(client, f"/item/{cid}") for cid in ids]

    results = {}
    for name, xs in (("queue first page", queue), ("item page", items)):
        results[name] = {"n": len(xs), "median_ms": round(statistics.median(xs) * 1000, 1),
                         "p95_ms": round(_p95(xs) * 1000, 1), "target_ms": TARGETS[name] * 1000}
    print(f"store: {', '.join(f'{t} {n:,} rows' for t, n in size.items())}")
    print(f"{'page':<18}{'n':>5}{'median ms':>12}{'p95 ms':>10}{'target ms':>11}")
    missed = []
    for name, r in results.items():
        ok = r["p95_ms"] <= r["target_ms"]
        missed += [] if ok else [name]
        print(f"{name:<18}{r['n']:>5}{r['median_ms']:>12}{r['p95_ms']:>10}{r['target_ms']:>11.0f}"
              f"{'' if ok else '  MISSED'}")
    print(json.dumps({"store": size, **results}))
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
