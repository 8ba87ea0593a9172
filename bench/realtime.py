"""Real-time bench: N concurrent posting clients against gunicorn, and the floor of the same run.

Builds a database with the app's migrations (``bench.market.reset_database`` and ``upgrade``):
one seller with two streams in sampling mode (the plan cleared: f of the posts still go to
inspection), solar and mortgage, and ``--buyers`` funded buyers whose standing orders take
solar leads only, so about ``--match-share`` of the posts can be sold within the request.
Then starts gunicorn as the README runs it (``wsgi:app``, ``--workers`` x ``--threads``) and
``--clients`` threads, each on its own keep-alive connection, that ping (no contact) and post
the lead with the ping's id, at ``--rate`` posts/s in all (0: as fast as they can, saturation)
for ``--seconds``. It prints posts/s, p50/p95/p99 of ping and of post, the share sold within
the request, then checks for double sales and the ledger.

The floor, measured in the same invocation on the same database: ``--clients`` threads that
each run one bare transaction per "post" (``BEGIN; INSERT one row; COMMIT``) as fast as they
can; the ratio is posts/s over the floor's transactions/s.

Usage: python bench/realtime.py [--database-url URL] [--clients 8] [--rate 100] [--seconds 20]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.market import load, make_app, make_buyers, pct, reset_database  # noqa: E402

PRICE_CENTS = 1000
CONTACT = ("first_name", "last_name", "email", "phone", "address")


def build(app, buyers: int) -> dict:
    """The seller, its two streams in sampling mode, the buyers' solar orders; tokens."""
    from flask_migrate import upgrade
    from sqlalchemy import update

    from app.auth import services as accounts
    from app.db import transaction
    from app.extensions import db
    from marketplace.autobuy import services as autobuy
    from marketplace.streams import services as streams
    from marketplace.streams.models import Stream

    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"), revision="head")
        tag = uuid.uuid4().hex[:8]
        seller = accounts.signup(
            email=f"seller.{tag}@bench.example.com",
            password="bench horse battery staple",
            organization_name=f"Bench seller {tag}",
            kind="seller",
        )
        ids = {
            vertical: streams.create_stream(
                seller=seller, vertical=vertical, name=f"{vertical} form", price_cents=PRICE_CENTS
            ).id
            for vertical in ("solar", "mortgage")
        }
        with transaction():
            db.session.execute(
                update(Stream).where(Stream.id.in_(ids.values())).values(mode="sampling")
            )
        from app.auth.models import User

        for user_id in make_buyers(buyers, 10_000_000):
            autobuy.create_saved_search(
                buyer=db.session.get(User, user_id),
                name="live solar",
                filter={"vertical": "solar"},
                auto_buy={
                    "max_price_cents": 5000,
                    "daily_cap": 1_000_000,
                    "budget_cents": 10_000_000,
                },
            )
        _, token = accounts.create_token(user=seller)
    return {"streams": ids, "token": token}


def lead(n: int, tag: str) -> dict:
    now = datetime.now(UTC).replace(microsecond=0).isoformat()
    return {
        "first_name": "Maria",
        "last_name": f"Bench{n}",
        "email": f"maria.{tag}.{n}@gmail.com",
        "phone": f"+1 415 {200 + n // 10_000 % 800:03d} {n % 10_000:04d}",
        "country": "US",
        "postal_code": "94103",
        "city": "San Francisco",
        "captured_at": now,
        "consent_text": "I agree to be contacted about quotes.",
        "consented_at": now,
        "consent_ip": "203.0.113.7",
        "consent_url": "https://example.com/form",
    }


def start_server(url: str, port: int, workers: int, threads: int, instance: str):
    env = os.environ | {
        "DATABASE_URL": url,
        "LEADEX_INSTANCE_DIR": instance,
        "RATELIMIT_ENABLED": "0",
        "SECRET_KEY": "bench-" + "x" * 40,
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--threads", str(threads),
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    for _ in range(200):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/quality")
            conn.getresponse().read()
            return server
        except OSError:
            time.sleep(0.1)
    server.terminate()
    raise SystemExit("gunicorn did not start")


def run_clients(port: int, built: dict, clients: int, rate: float, seconds: float) -> dict:
    """Each client: ping, then post with the ping's id; solar posts alternate with mortgage
    ones by the client's number (half the clients post solar)."""
    headers = {"Authorization": f"Bearer {built['token']}", "Content-Type": "application/json"}
    pings, posts, statuses, errors = [], [], [], []
    lock = threading.Lock()
    start = threading.Barrier(clients)
    tag = uuid.uuid4().hex[:6]
    interval = clients / rate if rate else 0.0

    def call(conn, path, body, extra=None):
        began = time.perf_counter()
        conn.request("POST", path, json.dumps(body), headers | (extra or {}))
        response = conn.getresponse()
        answer = json.loads(response.read() or b"{}")
        return response.status, answer, (time.perf_counter() - began) * 1000

    def client(number: int):
        vertical = "solar" if number % 2 == 0 else "mortgage"
        stream_id = built["streams"][vertical]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine_pings, mine_posts, mine_statuses = [], [], []
        start.wait()
        began = time.perf_counter()
        n = 0
        while time.perf_counter() - began < seconds:
            due = began + n * interval
            if interval and time.perf_counter() < due:
                time.sleep(due - time.perf_counter())
            values = lead(number * 1_000_000 + n, tag)
            n += 1
            try:
                status, answer, ms = call(
                    conn,
                    f"/api/v1/streams/{stream_id}/pings",
                    {k: v for k, v in values.items() if k not in CONTACT},
                )
                mine_pings.append(ms)
                body = values | ({"ping_id": answer["ping_id"]} if status == 200 else {})
                status, answer, ms = call(
                    conn, f"/api/v1/streams/{stream_id}/leads", body,
                    {"Idempotency-Key": f"{tag}-{number}-{n}"},
                )  # fmt: skip
                mine_posts.append(ms)
                mine_statuses.append(answer.get("status") if status == 201 else str(status))
            except (OSError, http.client.HTTPException, ValueError) as exc:
                with lock:
                    errors.append(repr(exc))
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        with lock:
            pings.extend(mine_pings)
            posts.extend(mine_posts)
            statuses.extend(mine_statuses)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    return {
        "elapsed": elapsed, "pings": pings, "posts": posts, "statuses": statuses,
        "errors": errors,
    }  # fmt: skip


def floor(url: str, clients: int, seconds: float) -> float:
    """Transactions/s of one bare INSERT per transaction from ``clients`` threads."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url, pool_size=clients, max_overflow=0)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS bench_floor"))
        conn.execute(
            text("CREATE TABLE bench_floor (id INTEGER PRIMARY KEY, body TEXT, at TEXT)")
            if url.startswith("sqlite")
            else text("CREATE TABLE bench_floor (id BIGSERIAL PRIMARY KEY, body TEXT, at TEXT)")
        )
    done = [0] * clients
    start = threading.Barrier(clients)

    def work(index: int):
        with engine.connect() as conn:
            start.wait()
            began = time.perf_counter()
            while time.perf_counter() - began < seconds:
                with conn.begin():
                    conn.execute(
                        text("INSERT INTO bench_floor (body, at) VALUES (:b, :a)"),
                        {"b": "x" * 400, "a": datetime.now(UTC).isoformat()},
                    )
                done[index] += 1

    threads = [threading.Thread(target=work, args=(i,)) for i in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE bench_floor"))
    engine.dispose()
    return sum(done) / elapsed


def double_sales(app) -> tuple[int, list]:
    """Leads sold past their max_sales or counted apart from their bought rows; the ledger."""
    from sqlalchemy import func, select

    from app.extensions import db
    from billing import ledger
    from marketplace.models import Lead
    from marketplace.purchases.models import PurchasedLead

    with app.app_context():
        bought = (
            select(PurchasedLead.lead_id, func.count().label("n"))
            .group_by(PurchasedLead.lead_id)
            .subquery()
        )
        bad = db.session.scalar(
            select(func.count())
            .select_from(Lead)
            .join(bought, bought.c.lead_id == Lead.id, isouter=True)
            .where(
                (Lead.sales_count > Lead.max_sales)
                | (Lead.sales_count != func.coalesce(bought.c.n, 0))
            )
        )
        return bad, ledger.check()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None, help="default: a new SQLite file")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rate", type=float, default=100.0, help="posts/s in all; 0: saturate")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--buyers", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    instance = tempfile.mkdtemp(prefix="leadex-realtime-")
    url = args.database_url or f"sqlite:///{instance}/bench.db"
    reset_database(url)
    app = make_app(url, instance)
    built = build(app, args.buyers)
    server = start_server(url, args.port, args.workers, args.threads, instance)
    try:
        result = run_clients(args.port, built, args.clients, args.rate, args.seconds)
    finally:
        server.terminate()
        server.wait(timeout=30)
    floor_tps = floor(url, args.clients, min(args.seconds, 10.0))
    bad, ledger_problems = double_sales(app)
    posts, pings, statuses = result["posts"], result["pings"], result["statuses"]
    rate = len(posts) / result["elapsed"]
    offered = f"{args.rate:g}" if args.rate else "max"
    print(f"database {url.split('@')[-1]}; gunicorn {args.workers} workers x {args.threads}"
          f" threads; {args.clients} clients at {offered} posts/s; load {load()}")  # fmt: skip
    print(f"posts      {len(posts):>7,}  {rate:8.1f} posts/s   errors {len(result['errors'])}")
    for name, values in (("ping", pings), ("post", posts)):
        if values:
            print(f"{name} ms     p50 {pct(values, .5):7.1f}  p95 {pct(values, .95):7.1f}"
                  f"  p99 {pct(values, .99):7.1f}")  # fmt: skip
    shares = {s: statuses.count(s) / len(statuses) for s in sorted(set(statuses))}
    print("answers    " + "  ".join(f"{s} {share:.1%}" for s, share in shares.items()))
    print(f"floor      {floor_tps:8.1f} tx/s (one bare INSERT per transaction, same database)")
    print(f"ratio      {rate / floor_tps:.3f} posts/s per floor tx/s")
    print(f"double or miscounted sales {bad}; ledger problems {len(ledger_problems)}")
    if result["errors"]:
        print("first errors:", result["errors"][:3])


if __name__ == "__main__":
    main()
