"""Intake bench: generate a realistic N-row CSV and run the real intake path on SQLite.

Prints rows per second for each 100,000-row stretch (a cost that grows with the file shows as a
falling curve), the peak memory of the intake process, of its largest checking worker and of the
whole process tree, and this machine's floor (shared/floors/intake_floor.py, run in the same
invocation on the same N) with the ratio. It fails if the planted bad rows are not found exactly
or the counts do not add up.

Two paths: by default the task body (``create_csv_batch``, then ``process_batch`` timed); with
``--api`` the upload through the Flask test client (``POST /api/v1/batches``, the Celery task
run eagerly as in the tests), timed from the upload to the end of processing.

Usage: python bench/intake.py [--rows 100000] [--api] [--no-floor] [--database-url URL]
"""

from __future__ import annotations

import argparse
import atexit
import csv
import json
import multiprocessing
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLOOR = ROOT.parent / "shared" / "floors" / "intake_floor.py"
LOCALES = {
    "en_US": "US",
    "ar_SA": "SA",
    "fa_IR": "IR",
    "tr_TR": "TR",
    "de_DE": "DE",
    "en_GB": "GB",
}
HEADER = [
    "first_name",
    "last_name",
    "email",
    "phone",
    "country",
    "postal_code",
    "city",
    "address",
    "captured_at",
    "consent_text",
    "consented_at",
    "consent_ip",
    "consent_url",
    "has_budget",
    "is_decision_maker",
    "need",
    "timeline",
    "interest_signals",
]
# Share of each kind of bad row (the rest are good); duplicates repeat an earlier good row.
BAD_SHARES = {
    "invalid_email": 0.02,
    "disposable_email": 0.01,
    "invalid_phone": 0.02,
    "placeholder_name": 0.01,
    "too_old": 0.01,
    "consent_missing": 0.01,
    "duplicate_in_batch": 0.04,
}


def _phone_maker(country: str):
    import phonenumbers

    example = phonenumbers.example_number_for_type(country, phonenumbers.PhoneNumberType.MOBILE)
    national = str(example.national_number)

    def make(serial: int) -> str:
        # The region's example mobile number with a serial in its last six digits: valid and
        # unique, so the only duplicates are the planted ones.
        return f"+{example.country_code}{national[:-6]}{serial % 1_000_000:06d}"

    return make


def generate(path: Path, n: int, seed: int = 7) -> dict:
    from faker import Faker

    rng = random.Random(seed)
    fakers = {loc: Faker(loc) for loc in LOCALES}
    for faker in fakers.values():
        faker.seed_instance(seed)
    phones = {country: _phone_maker(country) for country in LOCALES.values()}
    now = datetime.now(UTC)
    expected = dict.fromkeys(BAD_SHARES, 0)
    kinds, weights = list(BAD_SHARES) + ["good"], list(BAD_SHARES.values())
    weights.append(1 - sum(weights))
    good_rows = []
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        locales = list(LOCALES)
        for i in range(n):
            locale = locales[i % len(locales)]
            faker, country = fakers[locale], LOCALES[locale]
            captured = now - timedelta(days=rng.randint(0, 60), minutes=rng.randint(0, 1440))
            row = {
                "first_name": faker.first_name(),
                "last_name": faker.last_name(),
                "email": f"{re.sub(r'[^a-z]', '', faker.user_name().lower()) or 'u'}{i}"
                f"@{rng.choice(['gmail.com', 'yahoo.com', 'outlook.com', 'proton.me'])}",
                "phone": phones[country](i // len(LOCALES)),
                "country": country,
                "postal_code": "",
                "city": faker.city(),
                "address": faker.street_address(),
                "captured_at": captured.isoformat(),
                "consent_text": "I agree to be contacted.",
                "consented_at": captured.isoformat(),
                "consent_ip": faker.ipv4_public(),
                "consent_url": "https://example.com/form",
                "has_budget": rng.choice(["yes", "no"]),
                "is_decision_maker": rng.choice(["yes", "no", ""]),
                "need": rng.choice(["", "Lower energy bills", "Replace old roof"]),
                "timeline": rng.choice(["immediate", "1-3_months", "6-12_months", "unknown"]),
                "interest_signals": rng.choice(["form_submission", "demo_request;webinar", ""]),
            }
            kind = rng.choices(kinds, weights)[0]
            if kind == "duplicate_in_batch" and not good_rows:
                kind = "good"
            if kind == "invalid_email":
                row["email"] = "not-an-email@"
            elif kind == "disposable_email":
                row["email"] = f"user{i}@mailinator.com"
            elif kind == "invalid_phone":
                row["phone"] = "12345"
            elif kind == "placeholder_name":
                row["first_name"] = "test"
            elif kind == "too_old":
                old = (now - timedelta(days=200)).isoformat()
                row["captured_at"] = row["consented_at"] = old
            elif kind == "consent_missing":
                row["consent_text"] = ""
            elif kind == "duplicate_in_batch":
                row["email"] = rng.choice(good_rows)
            if kind != "good":
                expected[kind] += 1
            elif len(good_rows) < 10_000:
                good_rows.append(row["email"])
            writer.writerow([row[h] for h in HEADER])
    return expected


def cached_csv(n: int, seed: int) -> tuple[Path, dict]:
    """The generated file for (n, seed, today), made once: Faker needs about 0.5 ms a row."""
    folder = Path(tempfile.gettempdir()) / "leadex-bench"
    folder.mkdir(exist_ok=True)
    # Dates are relative to today (the age check), so a file is reused on its day only.
    stem = folder / f"leads-{n}-seed{seed}-{datetime.now(UTC):%Y%m%d}"
    path, planted = stem.with_suffix(".csv"), stem.with_suffix(".json")
    if not planted.exists():
        started = time.perf_counter()
        expected = generate(path, n, seed)
        planted.write_text(json.dumps(expected))
        print(f"generated {n:,} rows in {time.perf_counter() - started:.1f}s")
    return path, json.loads(planted.read_text())


def run_intake(path: str, database_url: str | None, via_api: bool) -> None:
    """Child process: the real intake path on a fresh database; prints one JSON line."""
    instance = tempfile.mkdtemp(prefix="leadex-bench-")
    # The database of a 500,000-row run takes 800 MB; nothing reads it after the run.
    atexit.register(shutil.rmtree, instance, ignore_errors=True)
    os.environ["LEADEX_INSTANCE_DIR"] = instance
    os.environ.setdefault("CELERY_ALWAYS_EAGER", "false")
    sys.path.insert(0, str(ROOT))
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from app import create_app
    from app.auth import services as accounts
    from app.extensions import db
    from marketplace.intake import run, services
    from marketplace.models import Batch, BatchRejection

    config = {
        "SQLALCHEMY_DATABASE_URI": database_url or f"sqlite:///{instance}/bench.db",
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    }
    if via_api:
        config["CELERY"] = {"task_always_eager": True, "task_eager_propagates": True}
    app = create_app(config)

    # Progress per chunk, from the same clock as the total: the rows/s of each stretch.
    # Per chunk: rows done, wall clock, CPU seconds of this process and of its checking
    # workers (so the figures show which side is busy), and this process's RSS.
    marks: list[tuple[int, float, float, float, int]] = []
    store_chunk = run.store_chunk
    page_kb = os.sysconf("SC_PAGE_SIZE") // 1024
    ticks = os.sysconf("SC_CLK_TCK")
    workers_cpu: dict[int, float] = {}

    def timed_store_chunk(batch, checked, lookback_days):
        store_chunk(batch, checked, lookback_days)
        with open("/proc/self/statm") as statm:
            rss_kb = int(statm.read().split()[1]) * page_kb
        for child in multiprocessing.active_children():
            try:
                with open(f"/proc/{child.pid}/stat") as stat:
                    fields = stat.read().rpartition(")")[2].split()
                workers_cpu[child.pid] = (int(fields[11]) + int(fields[12])) / ticks
            except OSError:
                continue
        marks.append(
            (
                batch.processed_rows + len(checked),
                time.perf_counter(),
                time.process_time(),
                sum(workers_cpu.values()),
                rss_kb,
            )
        )

    run.store_chunk = timed_store_chunk
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"), revision="heads")
        seller = accounts.signup(
            email="bench@example.com",
            password="bench horse battery staple",
            organization_name="Bench Leads",
            kind="seller",
        )
        if via_api:
            _, token = accounts.create_token(user=seller, name="bench")
            client = app.test_client()
            started, cpu_started = time.perf_counter(), time.process_time()
            with open(path, "rb") as stream:
                response = client.post(
                    "/api/v1/batches",
                    headers={"Authorization": f"Bearer {token}"},
                    data={"vertical": "solar", "price_cents": "1000", "file": (stream, "b.csv")},
                    content_type="multipart/form-data",
                )
            elapsed = time.perf_counter() - started
            if response.status_code != 202:
                sys.exit(f"upload refused: {response.status_code} {response.get_data(True)}")
            batch_id = response.get_json()["id"]
        else:
            services._enqueue = lambda batch: None  # the bench runs the task body itself, timed
            with open(path, "rb") as stream:
                batch = services.create_csv_batch(
                    user=seller,
                    stream=stream,
                    filename="bench.csv",
                    vertical="solar",
                    price_cents=1000,
                )
            batch_id = batch.id
            started, cpu_started = time.perf_counter(), time.process_time()
            run.process_batch(batch_id=batch_id)
            elapsed = time.perf_counter() - started
        db.session.remove()
        batch = db.session.get(Batch, batch_id)
        rejections = dict(
            db.session.execute(
                select(BatchRejection.code, func.count())
                .where(BatchRejection.batch_id == batch.id)
                .group_by(BatchRejection.code)
            ).all()
        )
        print(
            json.dumps(
                {
                    "seconds": elapsed,
                    "started": started,
                    "cpu_started": cpu_started,
                    "marks": marks,
                    "status": batch.status,
                    "rows": batch.processed_rows,
                    "accepted": batch.accepted_count,
                    "rejected": batch.rejected_count,
                    "duplicates": batch.duplicate_count,
                    "codes": rejections,
                    "self_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                    "workers_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
                }
            )
        )


def _tree_pss_kb(pid: int) -> int:
    """Proportional set size of a process and its descendants: shared pages counted once."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            with open(f"/proc/{current}/smaps_rollup") as handle:
                total += next(int(line.split()[1]) for line in handle if line.startswith("Pss:"))
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as handle:
                    todo.extend(int(child) for child in handle.read().split())
        except (OSError, StopIteration):
            continue
    return total


def watch_memory(process: subprocess.Popen, peak: list[int]) -> None:
    while process.poll() is None:
        peak[0] = max(peak[0], _tree_pss_kb(process.pid))
        time.sleep(0.2)


def stretches(result: dict, size: int = 100_000) -> list[str]:
    """One line per ``size``-row stretch: rows/s, CPU per row of each side, RSS at its end."""
    out, last = [], (0, result["started"], result["cpu_started"], 0.0)
    for rows, when, cpu, workers_cpu, rss_kb in result["marks"]:
        if rows - last[0] >= size or rows == result["rows"]:
            n = rows - last[0]
            out.append(
                f"  rows {last[0] + 1:>7,}-{rows:>7,}: {n / (when - last[1]):8,.0f} rows/s; "
                f"CPU per row: intake process {(cpu - last[2]) / n * 1e6:4.0f} us, workers "
                f"{(workers_cpu - last[3]) / n * 1e6:4.0f} us; intake RSS {rss_kb / 1024:,.0f} MB"
            )
            last = (rows, when, cpu, workers_cpu)
    return out


def floor(rows: int) -> dict:
    out = subprocess.run(
        [sys.executable, str(FLOOR), str(rows)], capture_output=True, text=True, check=True
    ).stdout
    figures = {}
    for line in out.splitlines():
        match = re.match(r"(parse only|parse\+checks\+sqlite|parse\+checks):\s+(\d+) rows/s", line)
        if match:
            figures[match.group(1)] = int(match.group(2))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--api", action="store_true", help="time the upload through the API")
    parser.add_argument("--no-floor", action="store_true")
    parser.add_argument(
        "--floor-rows",
        type=int,
        help="rows for the floor (default: --rows, at most 100,000: the floor's rate is flat "
        "in N and its own Faker generation would double a 500,000-row run)",
    )
    parser.add_argument("--database-url")
    parser.add_argument("--run-intake", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_intake:
        run_intake(args.run_intake, args.database_url, args.api)
        return

    path, expected = cached_csv(args.rows, args.seed)
    print(f"{args.rows:,} rows ({path.stat().st_size / 1e6:.1f} MB); planted: {expected}")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    command = [sys.executable, __file__, "--run-intake", str(path)]
    if args.database_url:
        command += ["--database-url", args.database_url]
    if args.api:
        command.append("--api")
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    peak = [0]
    watcher = threading.Thread(target=watch_memory, args=(child, peak), daemon=True)
    watcher.start()
    stdout, stderr = child.communicate()
    watcher.join()
    if child.returncode:
        sys.exit(stderr.decode()[-4000:])
    result = json.loads(stdout.decode().strip().splitlines()[-1])
    rate = result["rows"] / result["seconds"]
    path_name = "API upload to end of processing" if args.api else "process_batch"
    print(
        f"intake ({path_name}): {result['rows']:,} rows in {result['seconds']:.1f}s = "
        f"{rate:,.0f} rows/s; status {result['status']}; accepted {result['accepted']:,}, "
        f"rejected {result['rejected']:,}, duplicates {result['duplicates']:,}"
    )
    print("\n".join(stretches(result)))
    if result["marks"]:
        # Which side bounds the run: with the cores to itself, the run could not be faster
        # than its busier process, nor than all its CPU time spread over every core.
        _, _, cpu, workers_cpu, _ = result["marks"][-1]
        parent_cpu = cpu - result["cpu_started"]
        cores = os.cpu_count() or 1
        bound = result["rows"] / max(parent_cpu, (parent_cpu + workers_cpu) / cores)
        print(
            f"CPU: intake process {parent_cpu:.1f}s, workers {workers_cpu:.1f}s; on {cores} "
            f"free cores at best {bound:,.0f} rows/s (the wall figure above shares the cores)"
        )
    print(f"load average after:  {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        f"peak memory: intake process {result['self_mb']:,.0f} MB, largest checking worker "
        f"{result['workers_mb']:,.0f} MB (RSS); whole tree {peak[0] / 1024:,.0f} MB (PSS)"
    )
    found = result["codes"] == {code: count for code, count in expected.items() if count}
    adds_up = result["rows"] == result["accepted"] + result["rejected"] + result["duplicates"]
    print(f"rejection codes: {result['codes']}")
    print(f"planted = found: {'yes' if found else 'NO'}; rows add up: {adds_up}")
    if not args.no_floor and FLOOR.exists():
        floor_rows = args.floor_rows or min(args.rows, 100_000)
        figures = floor(floor_rows)
        print(f"floor on {floor_rows:,} rows (shared/floors/intake_floor.py), one core:")
        for name, value in figures.items():
            print(f"floor {name:22s} {value:10,d} rows/s   intake/floor = {rate / value:.2f}")
        print(f"load average after the floor: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if not found or not adds_up or result["status"] != "spot_check":
        sys.exit("intake did not find exactly the planted rows")


if __name__ == "__main__":
    main()
