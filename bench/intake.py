"""Intake bench: generate a realistic N-row CSV and run the real intake path on SQLite.

Prints rows per second and the intake process's peak memory, next to this machine's floor
(shared/floors/intake_floor.py, run in the same invocation on the same N) as a ratio.

Usage: python bench/intake.py [--rows 100000] [--no-floor] [--database-url URL]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
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


def run_intake(path: str, database_url: str | None) -> None:
    """Child process: the real intake path (service + Celery task body) on a fresh database."""
    instance = tempfile.mkdtemp(prefix="leadex-bench-")
    os.environ["LEADEX_INSTANCE_DIR"] = instance
    os.environ.setdefault("CELERY_ALWAYS_EAGER", "false")
    sys.path.insert(0, str(ROOT))
    from flask_migrate import upgrade

    from app import create_app
    from app.auth import services as accounts
    from marketplace.intake import run, services
    from marketplace.models import Batch

    config = {
        "SQLALCHEMY_DATABASE_URI": database_url or f"sqlite:///{instance}/bench.db",
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    }
    app = create_app(config)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"), revision="heads")
        seller = accounts.signup(
            email="bench@example.com",
            password="bench horse battery staple",
            organization_name="Bench Leads",
            kind="seller",
        )
        services._enqueue = lambda batch: None  # the bench runs the task body itself, timed
        with open(path, "rb") as stream:
            batch = services.create_csv_batch(
                user=seller,
                stream=stream,
                filename="bench.csv",
                vertical="solar",
                price_cents=1000,
            )
        started = time.perf_counter()
        run.process_batch(batch_id=batch.id)
        elapsed = time.perf_counter() - started
        batch = app.extensions["sqlalchemy"].session.get(Batch, batch.id)
        rejections = {}
        from sqlalchemy import func, select

        from marketplace.models import BatchRejection

        db = app.extensions["sqlalchemy"]
        for code, count in db.session.execute(
            select(BatchRejection.code, func.count())
            .where(BatchRejection.batch_id == batch.id)
            .group_by(BatchRejection.code)
        ):
            rejections[code] = count
        print(
            json.dumps(
                {
                    "seconds": elapsed,
                    "status": batch.status,
                    "rows": batch.processed_rows,
                    "accepted": batch.accepted_count,
                    "rejected": batch.rejected_count,
                    "duplicates": batch.duplicate_count,
                    "codes": rejections,
                }
            )
        )


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
    parser.add_argument("--no-floor", action="store_true")
    parser.add_argument("--database-url")
    parser.add_argument("--run-intake", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_intake:
        run_intake(args.run_intake, args.database_url)
        return

    workdir = Path(tempfile.mkdtemp(prefix="leadex-bench-"))
    path = workdir / "leads.csv"
    started = time.perf_counter()
    expected = generate(path, args.rows)
    print(
        f"generated {args.rows:,} rows ({path.stat().st_size / 1e6:.1f} MB) "
        f"in {time.perf_counter() - started:.1f}s; planted: {expected}"
    )

    command = [sys.executable, __file__, "--run-intake", str(path)]
    if args.database_url:
        command += ["--database-url", args.database_url]
    child = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if child.returncode:
        sys.exit(child.stderr[-4000:])
    result = json.loads(child.stdout.strip().splitlines()[-1])
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    rate = result["rows"] / result["seconds"]
    print(
        f"intake: {result['rows']:,} rows in {result['seconds']:.1f}s = {rate:,.0f} rows/s; "
        f"status {result['status']}; accepted {result['accepted']:,}, rejected "
        f"{result['rejected']:,}, duplicates {result['duplicates']:,}"
    )
    print(f"rejection codes: {result['codes']}")
    print(f"peak memory of the intake process: {peak_mb:,.0f} MB")
    if not args.no_floor and FLOOR.exists():
        figures = floor(args.rows)
        for name, value in figures.items():
            print(f"floor {name:22s} {value:10,d} rows/s   intake/floor = {rate / value:.2f}")


if __name__ == "__main__":
    main()
