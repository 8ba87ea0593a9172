"""Market bench: N listed leads, filtered searches through the API, a purchase storm, floors.

Builds N listed leads (1,000,000 on PostgreSQL, 200,000 on SQLite by default) in a database
made by the app's own migrations (``flask db upgrade``): on PostgreSQL by one set-based
``INSERT ... SELECT`` over ``generate_series``, on SQLite by ``executemany``; then ANALYZE.
The spread (verticals, countries, about 200 cities with their postal prefixes, stages, scores,
prices, exclusive or shared, sold out, withdrawn, paused, expired, consent certificates,
sellers and their quality scores) follows ``shared/floors/search_floor.py``'s data model.

Then, in the same invocation:

- filtered searches through the API: ``GET /api/v1/leads`` with the Flask test client against
  the real app and database (a buyer's bearer token; the WSGI app, its auth, schemas and
  masking, without a network socket), each filter combination with rotating values, p50, p95
  and max in ms;
- a purchase storm: ``--threads`` buyers (threads, one app context and connection each, a
  wallet funded as Stripe's ``payment_intent.succeeded`` webhook funds it) calling
  ``purchase_leads`` for one lead at a time, drawn from a shared pool, for ``--storm-seconds``;
  purchases/s, then oversells (sales_count against bought rows and max_sales) and
  ``flask billing check``'s ledger check;
- on PostgreSQL, ``bench/purchase_floor.py`` (the same purchase in raw SQL with its wallet,
  seller and platform-revenue rows, with and without the platform revenue row's UPDATE) and
  ``shared/floors/search_floor.py`` on ``--floor-dsn``, with the ratios.

The built database is dropped at the end unless ``--keep``; ``--reuse`` runs on a kept one.

Usage: python bench/market.py [--database-url URL] [--rows N] [--floor-dsn DSN] [--keep|--reuse]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SEARCH_FLOOR = ROOT.parent / "shared" / "floors" / "search_floor.py"

# --- the data model (search_floor.py's weights) -------------------------------------------------

VERTICAL_W = {
    "solar": 30,
    "home-insurance": 20,
    "auto-insurance": 15,
    "mortgage": 12,
    "legal": 10,
    "education": 8,
    "b2b-software": 5,
}
STAGES = ["unqualified", "CQL", "MQL", "PQL", "SQL", "lost"]
STAGE_W = [35, 15, 20, 8, 15, 7]
STAGE_SHIFT = [-8, -2, 3, 6, 10, -5]
TIMELINES = ["immediate", "1-3_months", "3-6_months", "6-12_months", "12+_months", "unknown"]
TIMELINE_W = [12, 25, 22, 15, 8, 18]
FIRST = ["James", "Mary", "Ahmed", "Fatima", "Li", "Elena", "Omar", "Sara", "Noah", "Aylin"]
LAST = ["Smith", "Garcia", "Khan", "Yilmaz", "Muller", "Rossi", "Tanaka", "Silva", "Brown", "Ali"]
US_CITIES = [
    ("New York", "NY", "100"), ("Los Angeles", "CA", "900"), ("Chicago", "IL", "606"),
    ("Houston", "TX", "770"), ("Phoenix", "AZ", "850"), ("Philadelphia", "PA", "191"),
    ("San Antonio", "TX", "782"), ("San Diego", "CA", "921"), ("Dallas", "TX", "752"),
    ("San Jose", "CA", "951"), ("Austin", "TX", "787"), ("Jacksonville", "FL", "322"),
    ("San Francisco", "CA", "941"), ("Columbus", "OH", "432"), ("Fort Worth", "TX", "761"),
    ("Indianapolis", "IN", "462"), ("Charlotte", "NC", "282"), ("Seattle", "WA", "981"),
    ("Denver", "CO", "802"), ("Washington", "DC", "200"), ("Boston", "MA", "021"),
    ("Nashville", "TN", "372"), ("Detroit", "MI", "482"), ("Portland", "OR", "972"),
    ("Las Vegas", "NV", "891"), ("Memphis", "TN", "381"), ("Louisville", "KY", "402"),
    ("Baltimore", "MD", "212"), ("Milwaukee", "WI", "532"), ("Albuquerque", "NM", "871"),
    ("Tucson", "AZ", "857"), ("Fresno", "CA", "937"), ("Sacramento", "CA", "958"),
    ("Kansas City", "MO", "641"), ("Atlanta", "GA", "303"), ("Miami", "FL", "331"),
    ("Raleigh", "NC", "276"), ("Omaha", "NE", "681"), ("Oakland", "CA", "946"),
    ("Minneapolis", "MN", "554"), ("Tulsa", "OK", "741"), ("Cleveland", "OH", "441"),
    ("Tampa", "FL", "336"), ("Berkeley", "CA", "947"), ("Palo Alto", "CA", "943"),
    ("Pittsburgh", "PA", "152"), ("Cincinnati", "OH", "452"), ("St. Louis", "MO", "631"),
    ("Orlando", "FL", "328"), ("Salt Lake City", "UT", "841"),
]  # fmt: skip
SMALL_US_STATES = ["AL", "AR", "IA", "ID", "KS", "ME", "MS", "MT", "ND", "NH", "SC", "SD", "VT"]
COUNTRY_CITIES = {
    "GB": ["London", "Manchester", "Birmingham", "Leeds", "Glasgow"],
    "CA": ["Toronto", "Montreal", "Vancouver", "Calgary", "Ottawa"],
    "DE": ["Berlin", "Hamburg", "Munich", "Cologne", "Frankfurt"],
    "AU": ["Sydney", "Melbourne", "Brisbane", "Perth", "Adelaide"],
    "FR": ["Paris", "Marseille", "Lyon", "Toulouse", "Creteil"],
    "IN": ["Mumbai", "Delhi", "Bengaluru", "Hyderabad", "Chennai"],
    "BR": ["Sao Paulo", "Rio de Janeiro", "Brasilia", "Salvador", "Fortaleza"],
    "MX": ["Mexico City", "Guadalajara", "Monterrey", "Puebla", "Tijuana"],
    "ES": ["Madrid", "Barcelona", "Valencia", "Seville", "Zaragoza"],
    "IT": ["Rome", "Milan", "Naples", "Turin", "Palermo"],
    "NL": ["Amsterdam", "Rotterdam", "The Hague", "Utrecht", "Eindhoven"],
    "TR": ["Istanbul", "Ankara", "Izmir", "Bursa", "Antalya"],
    "SA": ["Riyadh", "Jeddah", "Mecca", "Medina", "Dammam"],
    "AE": ["Dubai", "Abu Dhabi", "Sharjah", "Al Ain", "Ajman"],
    "JP": ["Tokyo", "Osaka", "Yokohama", "Nagoya", "Sapporo"],
    "SE": ["Stockholm", "Gothenburg", "Malmo", "Uppsala", "Vasteras"],
    "PL": ["Warsaw", "Krakow", "Lodz", "Wroclaw", "Poznan"],
    "ZA": ["Johannesburg", "Cape Town", "Durban", "Pretoria", "Gqeberha"],
    "IE": ["Dublin", "Cork", "Limerick", "Galway", "Waterford"],
}
COUNTRY_W = {
    "US": 50, "GB": 8, "CA": 6, "DE": 5, "AU": 4, "FR": 3.5, "IN": 3, "BR": 2.5, "MX": 2,
    "ES": 2, "IT": 2, "NL": 1.8, "TR": 1.7, "SA": 1.5, "AE": 1.5, "JP": 1.3, "SE": 1.2,
    "PL": 1.0, "ZA": 0.8, "IE": 0.7,
}  # fmt: skip
DIAL = {
    "US": "1", "GB": "44", "CA": "1", "DE": "49", "AU": "61", "FR": "33", "IN": "91",
    "BR": "55", "MX": "52", "ES": "34", "IT": "39", "NL": "31", "TR": "90", "SA": "966",
    "AE": "971", "JP": "81", "SE": "46", "PL": "48", "ZA": "27", "IE": "353",
}  # fmt: skip
SELLERS = 500
SLOTS = 10_000  # weighted draws: a value is picked by a uniform slot in a table of SLOTS slots
WALLET_CENTS = 100_000_000


def cities(rng: random.Random) -> list[tuple]:
    """(country, region, city, postal prefix, postal length, weight): 215 cities, Zipf-like
    within each country, the countries at COUNTRY_W."""
    us = list(US_CITIES)
    for a in [
        "Oak",
        "Cedar",
        "Maple",
        "Pine",
        "Green",
        "Fair",
        "River",
        "Lake",
        "Spring",
        "Clear",
    ]:
        for b in ["ville", "field", "ton", "wood", "dale"]:
            us.append((a + b, rng.choice(SMALL_US_STATES), f"{rng.randint(10, 999):03d}"))
    out = [(("US", st, city, z3, 5), 1 / rank**1.05) for rank, (city, st, z3) in enumerate(us, 1)]
    for cc, names in COUNTRY_CITIES.items():
        for rank, city in enumerate(names, 1):
            prefix = "94" if city == "Creteil" else f"{rng.randint(10, 99):02d}"
            length = 4 if cc in ("AU", "ZA", "NL") else 5
            out.append(((cc, f"{cc}-R{rank}", city, prefix, length), 1 / rank**1.05))
    totals: dict[str, float] = {}
    for (cc, *_), w in out:
        totals[cc] = totals.get(cc, 0) + w
    return [(*c, w * COUNTRY_W[c[0]] / totals[c[0]]) for c, w in out]


def slots(weights: list[float]) -> list[int]:
    """SLOTS indexes into ``weights``, each as often as its weight: a uniform slot is a
    weighted draw (in SQL, an equality join on the slot number)."""
    total, out, acc = sum(weights), [], 0.0
    for index, weight in enumerate(weights):
        acc += weight
        out.extend([index] * (round(acc / total * SLOTS) - len(out)))
    return out


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    k = (len(values) - 1) * q
    low = int(k)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (k - low)


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


# --- building ------------------------------------------------------------------------------------


def make_app(url: str, instance: str):
    os.environ["LEADEX_INSTANCE_DIR"] = instance
    from app import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            # One connection per storm thread, as a process with that many threads has.
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 24, "max_overflow": 8},
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "RATELIMIT_ENABLED": False,
            "CELERY": {"task_always_eager": False},
        }
    )


def reset_database(url: str) -> None:
    """An empty database for the app's migrations (the schema is dropped, not the database)."""
    from sqlalchemy import create_engine, text

    if url.startswith("postgresql"):
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
    else:
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def build_parties(rng: random.Random) -> None:
    """SELLERS seller organisations with their standing (quality score: none for 10%), one
    listed batch per seller and vertical."""
    from sqlalchemy import insert, select

    from app.auth.models import Organization
    from app.db import transaction, utcnow
    from app.extensions import db
    from marketplace.models import Batch, SellerAccount, Vertical

    now = utcnow()
    with transaction() as session:
        session.execute(
            insert(Organization),
            [
                {"name": f"Bench seller {i}", "kind": "seller", "created_at": now}
                for i in range(SELLERS)
            ],
        )
        sellers = list(
            session.scalars(
                select(Organization.id)
                .where(Organization.name.like("Bench seller %"))
                .order_by(Organization.id)
            )
        )
        quality = [
            None if rng.random() < 0.1 else max(0, min(100, round(rng.gauss(70, 12))))
            for _ in sellers
        ]
        session.execute(
            insert(SellerAccount),
            [
                {
                    "organization_id": org,
                    "is_on_hold": False,
                    "inspection_level": "normal",
                    "inspection_state": {},
                    "quality_score": q,
                    "column_map": {},
                }
                for org, q in zip(sellers, quality, strict=True)
            ],
        )
        verticals = list(session.scalars(select(Vertical.id).order_by(Vertical.id)))
        session.execute(
            insert(Batch),
            [
                {
                    "seller_id": org,
                    "vertical_id": v,
                    "name": f"bench {org}/{v}",
                    "price_cents": 1500,
                    "currency": "usd",
                    "max_sales": 1,
                    "status": "listed",
                    "source_format": "json",
                    "column_map": {},
                    "processed_rows": 0,
                    "accepted_count": 0,
                    "rejected_count": 0,
                    "duplicate_count": 0,
                    "created_at": now,
                }
                for org in sellers
                for v in verticals
            ],
        )
    db.session.remove()


def _pick_tables(rng: random.Random) -> dict[str, list]:
    from sqlalchemy import select

    from app.auth.models import Organization
    from app.extensions import db
    from marketplace.models import Vertical

    by_slug = dict(db.session.execute(select(Vertical.slug, Vertical.id)).all())
    sellers = list(
        db.session.scalars(
            select(Organization.id)
            .where(Organization.name.like("Bench seller %"))
            .order_by(Organization.id)
        )
    )
    city_rows = cities(rng)
    return {
        "cities": city_rows,
        "city": slots([c[5] for c in city_rows]),
        # A few big sellers, a long tail (as the floor's 1/rank^0.9).
        "seller": [sellers[i] for i in slots([1 / r**0.9 for r in range(1, len(sellers) + 1)])],
        "vertical": [
            by_slug[s] for s in slots(list(VERTICAL_W.values())) for s in [list(VERTICAL_W)[s]]
        ],
        "stage": slots(STAGE_W),
        "timeline": slots(TIMELINE_W),
    }


LEAD_SQL_PG = """
WITH g AS MATERIALIZED (
  SELECT i, random() r_city, random() r_seller, random() r_vert, random() r_stage, random() u1,
         random() u2, random() r_price, random() r_ms, random() r_status, random() r_sold,
         random() r_age, random() r_expired, random() r_list, random() r_cert, random() r_phone,
         random() r_time, random() r_pause, random() r_b1, random() r_b2, random() r_b3,
         random() r_b4, random() r_name, random() r_postal, random() r_digits
  FROM generate_series(1, %(n)s) i
), d AS MATERIALIZED (
  SELECT g.*, c.country, c.region, c.city, c.pfx, c.plen, c.dial,
         ps.val seller_id, pv.val vertical_id, st.val stage_i, tl.val timeline_i,
         least(100, greatest(0, round(50 + (ARRAY[-8, -2, 3, 6, 10, -5])[st.val + 1]
           + 15 * sqrt(-2 * ln(1 - g.u1)) * cos(2 * pi() * g.u2))))::int score,
         CASE WHEN g.r_ms < 0.3 THEN 1 WHEN g.r_ms < 0.7 THEN 3 ELSE 5 END max_sales,
         now() - make_interval(secs => CASE WHEN g.r_expired < 0.03
           THEN (91 + 30 * g.r_age) * 86400 ELSE power(g.r_age, 1.3) * 85 * 86400 END) captured
  FROM g
  JOIN bench_pick pc ON pc.dim = 'city' AND pc.slot = floor(g.r_city * %(slots)s)::int
  JOIN bench_city c ON c.idx = pc.val
  JOIN bench_pick ps ON ps.dim = 'seller' AND ps.slot = floor(g.r_seller * %(slots)s)::int
  JOIN bench_pick pv ON pv.dim = 'vertical' AND pv.slot = floor(g.r_vert * %(slots)s)::int
  JOIN bench_pick st ON st.dim = 'stage' AND st.slot = floor(g.r_stage * %(slots)s)::int
  JOIN bench_pick tl ON tl.dim = 'timeline' AND tl.slot = floor(g.r_time * %(slots)s)::int
), e AS (
  SELECT d.*,
         d.r_b1 < 0.15 + 0.007 * d.score b1, d.r_b2 < 0.15 + 0.007 * d.score b2,
         d.r_b3 < 0.15 + 0.007 * d.score b3, d.r_b4 < 0.15 + 0.007 * d.score b4,
         d.pfx || lpad(floor(d.r_postal * power(10, d.plen - length(d.pfx)))::bigint::text,
                       d.plen - length(d.pfx), '0') postal,
         (ARRAY['James','Mary','Ahmed','Fatima','Li','Elena','Omar','Sara','Noah','Aylin'])
           [1 + floor(d.r_name * 10)::int] first_name,
         (ARRAY['Smith','Garcia','Khan','Yilmaz','Muller','Rossi','Tanaka','Silva','Brown','Ali'])
           [1 + floor(d.r_digits * 10)::int] last_name,
         d.captured + make_interval(secs => 30 + power(d.r_list, 3) * 7200) listed
  FROM d
)
INSERT INTO leads (
  batch_id, seller_id, vertical_id, row_number, status, is_paused, price_cents, currency,
  max_sales, sales_count, created_at, listed_at, expires_at, first_name, last_name, email,
  email_domain, email_status, phone, phone_type, phone_confirmed_mobile, country, region, city,
  region_key, city_key, postal_code, postal_prefix, postal_key, address, captured_at,
  consent_text, consented_at, consent_ip, consent_url, consent_certificate, has_budget,
  is_decision_maker, timeline,
  interest_signals, extra, bant_budget, bant_authority, bant_need, bant_timing, bant_met, champ,
  anum, faint, gpct, stage, claimed_stage_unsupported, score, score_breakdown, temperature)
SELECT b.id, e.seller_id, e.vertical_id, e.i,
  CASE WHEN e.r_status < 0.97 THEN 'listed' ELSE 'withdrawn' END, e.r_pause < 0.01,
  greatest(500, least(10000, floor(500 * power(20, power(e.r_price, 1.6) * 0.7
    + e.score * 0.003) / 50) * 50))::int, 'usd',
  e.max_sales,
  CASE WHEN e.r_status >= 0.90 AND e.r_status < 0.97 THEN e.max_sales
       WHEN e.max_sales > 1 AND e.r_sold < 0.4 THEN floor(e.r_sold / 0.4 * e.max_sales)::int
       ELSE 0 END,
  e.listed - interval '20 seconds', e.listed,
  e.captured + make_interval(days => v.max_lead_age_days),
  e.first_name, e.last_name, lower(e.first_name || '.' || e.last_name) || e.i || '@gmail.com',
  'gmail.com', 'valid', '+' || e.dial || (2000000000 + floor(e.r_digits * 7999999999))::bigint,
  CASE WHEN e.r_phone < 0.7 THEN 'mobile' WHEN e.r_phone < 0.9 THEN 'fixed_line' ELSE 'voip' END,
  e.r_phone < 0.6, e.country, e.region, e.city, lower(e.region), lower(e.city), e.postal,
  upper(left(e.postal, 3)), e.postal,
  e.i || ' Main Street', e.captured, 'I agree to be contacted about my request.', e.captured,
  '203.0.113.' || (e.i %% 250), 'https://example.com/form',
  CASE WHEN e.r_cert < 0.4 THEN 'https://cert.trustedform.com/' || md5(e.i::text) END,
  e.b1, e.b2, (ARRAY['immediate','1-3_months','3-6_months','6-12_months','12+_months','unknown'])
    [e.timeline_i + 1],
  '["form_submission"]'::json, '{}'::json, e.b1, e.b2, e.b3, e.b4,
  e.b1::int + e.b2::int + e.b3::int + e.b4::int,
  floor(e.r_b1 * 5)::int, floor(e.r_b2 * 5)::int, floor(e.r_b3 * 5)::int, floor(e.r_b4 * 5)::int,
  (ARRAY['unqualified','CQL','MQL','PQL','SQL','lost'])[e.stage_i + 1], false, e.score,
  format('[{"sign": "bant", "points": %%s, "label": "BANT criteria met"}, '
         '{"sign": "stage", "points": %%s, "label": "Stage"}, '
         '{"sign": "intent", "points": 5, "label": "Asked for a quote"}]',
         e.score / 2, e.score - e.score / 2 - 5)::json,
  CASE WHEN e.score >= 70 THEN 'hot' WHEN e.score >= 40 THEN 'warm' ELSE 'cold' END
FROM e
JOIN batches b ON b.seller_id = e.seller_id AND b.vertical_id = e.vertical_id
JOIN verticals v ON v.id = e.vertical_id
"""


def build_leads_pg(n: int, picks: dict) -> None:
    from app.extensions import db

    raw = db.engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute(
            "CREATE TEMP TABLE bench_city (idx int PRIMARY KEY, country text, region text, "
            "city text, pfx text, plen int, dial text)"
        )
        cur.executemany(
            "INSERT INTO bench_city VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [(i, c[0], c[1], c[2], c[3], c[4], DIAL[c[0]]) for i, c in enumerate(picks["cities"])],
        )
        cur.execute("CREATE TEMP TABLE bench_pick (dim text, slot int, val int)")
        cur.executemany(
            "INSERT INTO bench_pick VALUES (%s, %s, %s)",
            [
                (dim, slot, value)
                for dim in ("city", "seller", "vertical", "stage", "timeline")
                for slot, value in enumerate(picks[dim])
            ],
        )
        cur.execute("CREATE INDEX ON bench_pick (dim, slot)")
        cur.execute("ANALYZE bench_pick")
        cur.execute("SET LOCAL work_mem = '256MB'")
        cur.execute(LEAD_SQL_PG, {"n": n, "slots": SLOTS})
        raw.commit()
    finally:
        raw.close()


def lead_rows_py(n: int, picks: dict, rng: random.Random, max_age: dict):
    """The rows LEAD_SQL_PG makes, drawn in Python (SQLite), as dicts for executemany."""
    now = datetime.now(UTC)
    city_rows, batches = picks["cities"], picks["batches"]
    for i in range(1, n + 1):
        country, region, city, pfx, plen, _ = city_rows[picks["city"][int(rng.random() * SLOTS)]]
        seller = picks["seller"][int(rng.random() * SLOTS)]
        vertical = picks["vertical"][int(rng.random() * SLOTS)]
        stage_i = picks["stage"][int(rng.random() * SLOTS)]
        timeline_i = picks["timeline"][int(rng.random() * SLOTS)]
        score = max(0, min(100, round(50 + STAGE_SHIFT[stage_i] + rng.gauss(0, 15))))
        r_ms, r_status, r_sold = rng.random(), rng.random(), rng.random()
        max_sales = 1 if r_ms < 0.3 else 3 if r_ms < 0.7 else 5
        if 0.90 <= r_status < 0.97:
            sales = max_sales
        elif max_sales > 1 and r_sold < 0.4:
            sales = int(r_sold / 0.4 * max_sales)
        else:
            sales = 0
        r_age = rng.random()
        age = (91 + 30 * r_age) * 86400 if rng.random() < 0.03 else r_age**1.3 * 85 * 86400
        captured = now - timedelta(seconds=age)
        listed = captured + timedelta(seconds=30 + rng.random() ** 3 * 7200)
        bants = [rng.random() < 0.15 + 0.007 * score for _ in range(4)]
        digits = plen - len(pfx)
        postal = pfx + f"{int(rng.random() * 10**digits):0{digits}d}" if digits else pfx
        first, last = rng.choice(FIRST), rng.choice(LAST)
        r_phone = rng.random()
        price = int(500 * 20 ** (rng.random() ** 1.6 * 0.7 + score * 0.003)) // 50 * 50
        yield {
            "batch_id": batches[seller, vertical],
            "seller_id": seller,
            "vertical_id": vertical,
            "row_number": i,
            "status": "listed" if r_status < 0.97 else "withdrawn",
            "is_paused": rng.random() < 0.01,
            "price_cents": max(500, min(10000, price)),
            "currency": "usd",
            "max_sales": max_sales,
            "sales_count": sales,
            "created_at": listed - timedelta(seconds=20),
            "listed_at": listed,
            "expires_at": captured + timedelta(days=max_age[vertical]),
            "first_name": first,
            "last_name": last,
            "email": f"{first}.{last}{i}@gmail.com".lower(),
            "email_domain": "gmail.com",
            "email_status": "valid",
            "phone": f"+{DIAL[country]}{2_000_000_000 + int(rng.random() * 7_999_999_999)}",
            "phone_type": "mobile" if r_phone < 0.7 else "fixed_line" if r_phone < 0.9 else "voip",
            "phone_confirmed_mobile": r_phone < 0.6,
            "country": country,
            "region": region,
            "city": city,
            "region_key": region.lower(),
            "city_key": city.lower(),
            "postal_code": postal,
            "postal_prefix": postal[:3],
            "postal_key": postal,
            "address": f"{i} Main Street",
            "captured_at": captured,
            "consent_text": "I agree to be contacted about my request.",
            "consented_at": captured,
            "consent_ip": f"203.0.113.{i % 250}",
            "consent_url": "https://example.com/form",
            "consent_certificate": f"https://cert.trustedform.com/{uuid.uuid4().hex}"
            if rng.random() < 0.4
            else None,
            "has_budget": bants[0],
            "is_decision_maker": bants[1],
            "timeline": TIMELINES[timeline_i],
            "interest_signals": ["form_submission"],
            "extra": {},
            "bant_budget": bants[0],
            "bant_authority": bants[1],
            "bant_need": bants[2],
            "bant_timing": bants[3],
            "bant_met": sum(bants),
            "champ": rng.randrange(5),
            "anum": rng.randrange(5),
            "faint": rng.randrange(5),
            "gpct": rng.randrange(5),
            "stage": STAGES[stage_i],
            "claimed_stage_unsupported": False,
            "score": score,
            "score_breakdown": [
                {"sign": "bant", "points": score // 2, "label": "BANT criteria met"},
                {"sign": "stage", "points": score - score // 2 - 5, "label": "Stage"},
                {"sign": "intent", "points": 5, "label": "Asked for a quote"},
            ],
            "temperature": "hot" if score >= 70 else "warm" if score >= 40 else "cold",
        }


def build_leads_sqlite(n: int, picks: dict, rng: random.Random) -> None:
    from sqlalchemy import insert, select

    from app.extensions import db
    from marketplace.models import Batch, Lead, Vertical

    picks["batches"] = {
        (s, v): b
        for b, s, v in db.session.execute(select(Batch.id, Batch.seller_id, Batch.vertical_id))
    }
    max_age = dict(db.session.execute(select(Vertical.id, Vertical.max_lead_age_days)).all())
    db.session.remove()
    chunk: list[dict] = []
    with db.engine.begin() as conn:
        for row in lead_rows_py(n, picks, rng, max_age):
            chunk.append(row)
            if len(chunk) == 10_000:
                conn.execute(insert(Lead), chunk)
                chunk = []
        if chunk:
            conn.execute(insert(Lead), chunk)


def build(app, url: str, rows: int, seed: int) -> None:
    from flask_migrate import upgrade
    from sqlalchemy import text

    from app.extensions import db
    from marketplace.models import Lead

    reset_database(url)
    rng = random.Random(seed)
    with app.app_context():
        started = time.perf_counter()
        upgrade(directory=str(ROOT / "migrations"), revision="heads")
        print(f"schema by the app's migrations: {time.perf_counter() - started:.1f}s")
        build_parties(rng)
        picks = _pick_tables(rng)
        db.session.remove()
        started = time.perf_counter()
        # The leads' secondary indexes (the model's, as the migrations made them) are built
        # once after the rows rather than kept up to date row by row.
        indexes = sorted(Lead.__table__.indexes, key=lambda index: index.name)
        with db.engine.begin() as conn:
            for index in indexes:
                index.drop(bind=conn)
        if url.startswith("postgresql"):
            build_leads_pg(rows, picks)
        else:
            build_leads_sqlite(rows, picks, rng)
        inserted = time.perf_counter() - started
        with db.engine.begin() as conn:
            if url.startswith("postgresql"):
                conn.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
            for index in indexes:
                index.create(bind=conn)
        built = time.perf_counter() - started
        print(f"rows {inserted:.1f}s, {len(indexes)} indexes {built - inserted:.1f}s")
        started = time.perf_counter()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE" if url.startswith("postgresql") else "ANALYZE"))
        print(
            f"built {rows:,} leads in {built:.1f}s ({rows / built:,.0f} rows/s); "
            f"ANALYZE {time.perf_counter() - started:.1f}s"
        )


# --- people --------------------------------------------------------------------------------------


def make_buyers(count: int, funded: int) -> list[int]:
    """``count`` buyer users (new organisations each run), wallets funded; their user ids."""
    from app.auth import services as accounts

    # As the billing tests fund wallets: a top-up applied as Stripe's webhook applies it.
    from tests.billing.helpers import fund_wallet

    tag = uuid.uuid4().hex[:8]
    ids = []
    for i in range(count):
        user = accounts.signup(
            email=f"buyer{i}.{tag}@bench.example.com",
            password="bench horse battery staple",
            organization_name=f"Bench buyer {i} {tag}",
            kind="buyer",
        )
        if funded:
            fund_wallet(user.organization_id, funded)
        ids.append(user.id)
    return ids


# --- searches ------------------------------------------------------------------------------------


def combinations(url: str) -> list[tuple[str, list[dict]]]:
    """Filter combinations of the market with rotating values taken from the data."""
    from sqlalchemy import func, select

    from app.extensions import db
    from marketplace.models import Lead

    by_city = db.session.execute(
        select(Lead.country, Lead.city, func.count())
        .group_by(Lead.country, Lead.city)
        .order_by(func.count().desc())
    ).all()
    top, small = by_city[:10], by_city[-8:]
    verticals = list(VERTICAL_W)
    prefixes = ["94", "100", "606", "9", "SW", "75", "021", "11"]
    return [
        ("vertical", [{"vertical": v} for v in verticals]),
        (
            "vertical+country+min_score",
            [
                {"vertical": v, "country": c, "min_score": 60}
                for v in verticals
                for c in ("US", "GB", "CA", "DE")
            ],
        ),
        ("city (top 10 and 8 smallest)", [{"city": c} for _, c, _ in top + small]),
        ("country+city", [{"country": cc, "city": c} for cc, c, _ in top + small]),
        ("postal_prefix", [{"postal_prefix": p} for p in prefixes]),
        (
            "price cap, sort=price",
            [{"max_price_cents": p, "sort": "price"} for p in (800, 1500, 3000, 6000)],
        ),
        (
            "exclusive+has_consent_certificate",
            [
                {"exclusive": "true", "has_consent_certificate": "true"},
                {"exclusive": "false", "has_consent_certificate": "true"},
            ],
        ),
        ("min_seller_quality", [{"min_seller_quality": q} for q in (60, 75, 85, 95)]),
        (
            "combined: vertical+US+stage+score+price+timeline+mobile",
            [
                {
                    "vertical": v,
                    "country": "US",
                    "stage": "SQL,PQL,MQL",
                    "min_score": 55,
                    "max_price_cents": 5000,
                    "timeline": "immediate,1-3_months",
                    "phone_type": "mobile",
                }
                for v in verticals
            ],
        ),
        ("sort=score, vertical", [{"vertical": v, "sort": "score"} for v in verticals]),
        (
            "worst: small city+price<=1000+certificate",
            [
                {"city": c, "max_price_cents": 1000, "has_consent_certificate": "true"}
                for _, c, _ in small
            ],
        ),
        (
            "worst: b2b+quality>=90+min_bant 4, sort=score",
            [
                {
                    "vertical": "b2b-software",
                    "min_seller_quality": 90,
                    "min_bant": 4,
                    "sort": "score",
                }
            ],
        ),
        (
            "worst: rare postal prefix, sort=price",
            [{"postal_prefix": p, "sort": "price"} for p in ("9410", "6060", "10001", "8021")],
        ),
    ]


def time_searches(app, token: str, reps: int, only: str | None) -> list[dict]:
    from app.extensions import db
    from marketplace.listings.schemas import LeadFilterArgs
    from marketplace.listings.services import search_market

    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    with app.app_context():
        combos = combinations(app.config["SQLALCHEMY_DATABASE_URI"])
        db.session.remove()
    results = []
    for name, params in combos:
        if only and not re.search(only, name):
            continue
        times, sizes, statuses = [], [], set()
        for i in range(min(5, len(params)) + reps):
            query = params[i % len(params)]
            started = time.perf_counter()
            response = client.get("/api/v1/leads", headers=headers, query_string=query)
            elapsed = (time.perf_counter() - started) * 1000
            statuses.add(response.status_code)
            if response.status_code != 200:
                sys.exit(f"{name} {query}: {response.status_code} {response.get_data(True)[:500]}")
            if i >= min(5, len(params)):  # the first of each value warm the caches
                times.append(elapsed)
                sizes.append(len(response.get_json()["items"]))
        # The same pages from the service alone (query and ORM load; no HTTP, auth, schema).
        service = []
        with app.app_context():
            for i in range(max(5, reps // 4)):
                query = LeadFilterArgs().load(
                    {k: str(v) for k, v in params[i % len(params)].items()}
                )
                page = {key: query.pop(key) for key in ("sort", "cursor", "limit")}
                started = time.perf_counter()
                search_market(filters=query, **page)
                service.append((time.perf_counter() - started) * 1000)
                db.session.rollback()
            db.session.remove()
        results.append(
            {
                "name": name,
                "service": statistics.median(service),
                "p50": statistics.median(times),
                "p95": pct(times, 0.95),
                "max": max(times),
                "items": statistics.mean(sizes),
                "params": params,
            }
        )
        print(
            f"  {name:58s} {results[-1]['p50']:7.1f} {results[-1]['p95']:7.1f} "
            f"{results[-1]['max']:7.1f} {results[-1]['service']:7.1f} {results[-1]['items']:5.0f}",
            flush=True,
        )
    return results


def explain(app, params: dict) -> list[str]:
    """EXPLAIN ANALYZE of the page query ``search_market`` sends for ``params`` (PostgreSQL)."""
    from sqlalchemy import event

    from app.extensions import db
    from marketplace.listings.schemas import LeadFilterArgs
    from marketplace.listings.services import search_market

    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if "FROM leads" in statement and "LIMIT" in statement:
            seen.append((statement, parameters))

    with app.app_context():
        query = LeadFilterArgs().load({k: str(v) for k, v in params.items()})
        page = {key: query.pop(key) for key in ("sort", "cursor", "limit")}
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            search_market(filters=query, **page)
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        statement, parameters = seen[-1]
        plan = (
            db.session.connection()
            .exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {statement}", parameters)
            .all()
        )
        db.session.remove()
    return [row[0] for row in plan]


# --- the purchase storm --------------------------------------------------------------------------


def storm_pool(size: int, seed: int) -> list[int]:
    """``size`` leads on sale now, in a random order (a mix of exclusive and shared)."""
    from sqlalchemy import select

    from app.db import utcnow
    from app.extensions import db
    from marketplace.listings.queries import on_sale
    from marketplace.models import Lead

    ids = list(db.session.scalars(select(Lead.id).where(on_sale(utcnow())).limit(size * 20)))
    random.Random(seed).shuffle(ids)
    return ids[:size]


def purchase_storm(
    app, buyer_ids: list[int], pool: list[int], seconds: float, start_at: float | None = None
) -> dict:
    """Each buyer (a thread with its own app context and connection) buys one lead of the pool
    at a time through ``purchase_leads`` until ``seconds`` have passed (from ``start_at``, a
    wall-clock time, when processes start together)."""
    from app.auth.models import User
    from app.errors import AppError
    from app.extensions import db
    from marketplace.services import purchase_leads

    stop = threading.Event()
    start = threading.Barrier(len(buyer_ids) + 1)
    lock = threading.Lock()
    totals: dict = {"ok": 0, "leads": 0, "refused": {}, "errors": [], "latency": []}

    def buyer(index: int, user_id: int) -> None:
        rng = random.Random(user_id)
        ok = leads = 0
        refused: dict[str, int] = {}
        errors, latency = [], []
        with app.app_context():
            user = db.session.get(User, user_id)
            db.session.commit()
            start.wait()
            if start_at:
                start.wait()
            while not stop.is_set():
                lead_id = rng.choice(pool)
                began = time.perf_counter()
                try:
                    purchase = purchase_leads(buyer=user, lead_ids=[lead_id])
                    ok += 1
                    leads += len(purchase.items)
                except AppError as exc:
                    refused[exc.code] = refused.get(exc.code, 0) + 1
                except Exception as exc:  # noqa: BLE001 - counted and shown: a deadlock, a bug
                    errors.append(repr(exc)[:300])
                    db.session.rollback()
                latency.append((time.perf_counter() - began) * 1000)
            db.session.remove()
        with lock:
            totals["ok"] += ok
            totals["leads"] += leads
            for code, n in refused.items():
                totals["refused"][code] = totals["refused"].get(code, 0) + n
            totals["errors"] += errors
            totals["latency"] += latency

    threads = [threading.Thread(target=buyer, args=(i, uid)) for i, uid in enumerate(buyer_ids)]
    for thread in threads:
        thread.start()
    start.wait()
    if start_at:
        time.sleep(max(0.0, start_at - time.time()))
        start.wait()
    began, cpu = time.perf_counter(), time.process_time()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    totals["seconds"] = time.perf_counter() - began
    totals["cpu"] = time.process_time() - cpu
    return totals


def storm_in_processes(
    url: str, buyer_ids: list[int], pool: list[int], seconds: float, processes: int
) -> dict:
    """The storm's buyers split over ``processes`` processes (as gunicorn's workers would
    be), which start together; their figures summed."""
    job = Path(tempfile.mkdtemp(prefix="leadex-storm-")) / "job.json"
    start_at = time.time() + 15  # after every child has built its app
    job.write_text(
        json.dumps(
            {
                "pool": pool,
                "seconds": seconds,
                "start_at": start_at,
                "switch_interval": sys.getswitchinterval(),
            }
        )
    )
    children = [
        subprocess.Popen(
            [sys.executable, __file__, "--database-url", url, "--storm-child", str(job),
             "--storm-buyers", ",".join(map(str, buyer_ids[i::processes]))],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        )
        for i in range(processes)
    ]  # fmt: skip
    totals: dict = {"ok": 0, "leads": 0, "refused": {}, "errors": [], "latency": [], "cpu": 0.0}
    seconds_seen = []
    for child in children:
        out, err = child.communicate()
        if child.returncode:
            sys.exit(f"storm process failed: {err[-3000:]}")
        result = json.loads(out.strip().splitlines()[-1])
        for key in ("ok", "leads", "errors", "latency", "cpu"):
            totals[key] += result[key]
        for code, n in result["refused"].items():
            totals["refused"][code] = totals["refused"].get(code, 0) + n
        seconds_seen.append(result["seconds"])
    shutil.rmtree(job.parent, ignore_errors=True)
    totals["seconds"] = max(seconds_seen)
    return totals


def storm_child(url: str, job_path: str, buyers: str) -> None:
    job = json.loads(Path(job_path).read_text())
    sys.setswitchinterval(job["switch_interval"])
    instance = tempfile.mkdtemp(prefix="leadex-bench-")
    app = make_app(url, instance)
    result = purchase_storm(
        app, [int(b) for b in buyers.split(",")], job["pool"], job["seconds"], job["start_at"]
    )
    shutil.rmtree(instance, ignore_errors=True)
    print(json.dumps(result))


def count_oversells(pool: list[int], before: dict[int, int], buyer_ids: list[int]) -> dict:
    """Over the pool: leads past max_sales, leads whose sales_count moved other than by the
    storm buyers' bought rows, bought rows without their sale; and the ledger check."""
    from sqlalchemy import func, select

    from app.auth.models import User
    from app.extensions import db
    from billing import ledger
    from marketplace.models import Lead
    from marketplace.purchases.models import PurchasedLead

    orgs = select(User.organization_id).where(User.id.in_(buyer_ids))
    rows = dict(
        db.session.execute(
            select(PurchasedLead.lead_id, func.count())
            .where(PurchasedLead.lead_id.in_(pool), PurchasedLead.buyer_org_id.in_(orgs))
            .group_by(PurchasedLead.lead_id)
        ).all()
    )
    over = moved = 0
    for lead_id, sales, max_sales in db.session.execute(
        select(Lead.id, Lead.sales_count, Lead.max_sales).where(Lead.id.in_(pool))
    ):
        over += sales > max_sales
        moved += sales - before[lead_id] != rows.get(lead_id, 0)
    unpaid = db.session.scalar(
        select(func.count()).where(
            PurchasedLead.lead_id.in_(pool), PurchasedLead.sale_id.is_(None)
        )
    )
    problems = ledger.check()
    db.session.remove()
    return {
        "bought_rows": sum(rows.values()),
        "over_max_sales": over,
        "sales_count_mismatch": moved,
        "rows_without_sale": unpaid,
        "ledger_problems": [str(p) for p in problems],
    }


def wallets_agree(buyer_ids: list[int], funded: int) -> int:
    """Buyers whose wallet is not exactly funded - the prices of the leads they hold."""
    from sqlalchemy import func, select

    from app.auth.models import User
    from app.extensions import db
    from billing import queries as billing_queries
    from marketplace.purchases.models import PurchasedLead

    wrong = 0
    for user_id in buyer_ids:
        org = db.session.get(User, user_id).organization_id
        spent = db.session.scalar(
            select(func.coalesce(func.sum(PurchasedLead.price_cents), 0)).where(
                PurchasedLead.buyer_org_id == org
            )
        )
        wrong += billing_queries.get_wallet_balance(org) != funded - spent
    db.session.remove()
    return wrong


# --- floors --------------------------------------------------------------------------------------

# Which query of search_floor.py does the same work as each combination (its tuned pass, with
# the geo indexes, for the city and postal ones); None: no equivalent, compared with q1.
FLOOR_OF = {
    "vertical": "q1 vertical",
    "vertical+country+min_score": "q2 vert+country+stage in (SQL,MQL)",
    "city (top 10 and 8 smallest)": "q4 vert+country+city",
    "country+city": "q4 vert+country+city",
    "postal_prefix": "q7 vert+US+postal prefix '94'",
    "price cap, sort=price": "q6 price<=2000+score>=60 (any vert)",
    "combined: vertical+US+stage+score+price+timeline+mobile": "q5 vert+bant_met>=3+timeline",
    "sort=score, vertical": "q3 vert+score>=70",
    "worst: small city+price<=1000+certificate": "worst: city+price<=X+certificate",
    "worst: rare postal prefix, sort=price": "q7 vert+US+postal prefix '94'",
}


def search_floor(dsn: str, rows: int, reps: int) -> tuple[dict, dict, str]:
    """Run shared/floors/search_floor.py; (query -> (p50, p95)), (phase -> purchases/s), text."""
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, str(SEARCH_FLOOR), "--dsn", dsn, "--rows", str(rows), "--reps", str(reps),
         "--purchase-seconds", "15"],
        capture_output=True, text=True, check=False,
    ).stdout  # fmt: skip
    queries, tuned, purchases, label = {}, {}, {}, None
    target = queries
    for line in out.splitlines():
        if line.startswith("+ "):
            target = tuned
        match = re.match(r"^(.{40}) +([\d.]+) +([\d.]+) +(\d+)$", line)
        if match:
            target[match.group(1).strip()] = (float(match.group(2)), float(match.group(3)))
        if line and not line.startswith(" ") and ": " in line and "leads" in line:
            label = line.split(":")[0]
        match = re.search(r"-> ([\d,]+) purchases/s", line)
        if match and label:
            purchases[label] = float(match.group(1).replace(",", ""))
    queries.update(tuned)  # the city and postal queries with the indexes they need
    saved = (
        Path(tempfile.gettempdir())
        / "leadex-bench"
        / f"search_floor-{time.strftime('%Y%m%d-%H%M')}.txt"
    )
    saved.write_text(out)
    print(f"  (ran {time.perf_counter() - started:.0f}s, its output in {saved}; load {load()})")
    return queries, purchases, out


# --- main ----------------------------------------------------------------------------------------


def drop(url: str) -> None:
    reset_database(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: a SQLite file under $TMPDIR")
    parser.add_argument("--rows", type=int, help="default 1,000,000 (PostgreSQL), 200,000")
    parser.add_argument("--reps", type=int, default=200, help="requests per combination")
    parser.add_argument("--only", help="combinations whose name matches this regex")
    parser.add_argument("--threads", type=int, default=16, help="buyers in the storm")
    parser.add_argument("--storm-seconds", type=float, default=20.0)
    parser.add_argument(
        "--processes", type=int, default=1, help="split the storm's threads over N processes"
    )
    parser.add_argument(
        "--switch-interval",
        type=float,
        help="sys.setswitchinterval for the storm (default 0.005 s: a thread back from the "
        "database may wait that long for the GIL while another computes)",
    )
    parser.add_argument("--storm-child", help=argparse.SUPPRESS)
    parser.add_argument("--storm-buyers", help=argparse.SUPPRESS)
    parser.add_argument("--pool", type=int, default=20_000, help="leads the storm buys from")
    parser.add_argument("--floor-dsn", help="database for search_floor.py (it drops `leads`)")
    parser.add_argument("--floor-seconds", type=float, default=10.0)
    parser.add_argument("--no-storm", action="store_true")
    parser.add_argument("--explain", type=int, default=3, help="EXPLAIN the N slowest (PG)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the built database")
    parser.add_argument("--reuse", action="store_true", help="run on a kept database")
    args = parser.parse_args()
    if args.switch_interval:
        sys.setswitchinterval(args.switch_interval)
    if args.storm_child:
        storm_child(args.database_url, args.storm_child, args.storm_buyers)
        return

    from app.config import normalize_database_url

    folder = Path(tempfile.gettempdir()) / "leadex-bench"
    folder.mkdir(exist_ok=True)
    url = normalize_database_url(args.database_url or f"sqlite:///{folder / 'market.db'}")
    pg = url.startswith("postgresql")
    rows = args.rows or (1_000_000 if pg else 200_000)
    instance = tempfile.mkdtemp(prefix="leadex-bench-")
    app = make_app(url, instance)
    from sqlalchemy import func, select

    from app.auth import services as accounts
    from app.auth.models import User
    from app.extensions import db
    from marketplace.models import Lead

    print(f"{'PostgreSQL' if pg else 'SQLite'}, {os.cpu_count()} cores, load {load()}")
    try:
        if args.reuse:
            from flask_migrate import upgrade

            with app.app_context():
                upgrade(directory=str(ROOT / "migrations"), revision="heads")
        else:
            build(app, url, rows, args.seed)
        with app.app_context():
            total = db.session.scalar(select(func.count()).select_from(Lead))
            from app.db import utcnow
            from marketplace.listings.queries import on_sale

            live = db.session.scalar(select(func.count()).where(on_sale(utcnow())))
            viewer = make_buyers(1, 0)[0]
            _, token = accounts.create_token(user=db.session.get(User, viewer), name="bench")
            db.session.remove()
        print(f"{total:,} leads, {live:,} on sale; load {load()}")

        print(f"\nGET /api/v1/leads (Flask test client, real app and database), {args.reps} "
              f"requests a combination, 50 a page; ms (service: p50 of search_market "
              f"alone)\n  {'combination':58s} {'p50':>7s} "
              f"{'p95':>7s} {'max':>7s} {'service':>7s} {'items':>5s}")  # fmt: skip
        searches = time_searches(app, token, args.reps, args.only)
        print(f"  load {load()}")
        if pg and args.explain:
            for result in sorted(searches, key=lambda r: r["p95"], reverse=True)[: args.explain]:
                print(f"\nEXPLAIN ANALYZE, {result['name']}: {result['params'][0]}")
                for line in explain(app, result["params"][0]):
                    print("    " + line)

        storm = None
        if not args.no_storm:
            with app.app_context():
                buyer_ids = make_buyers(args.threads, WALLET_CENTS)
                pool = storm_pool(args.pool, args.seed)
                before = dict(
                    db.session.execute(
                        select(Lead.id, Lead.sales_count).where(Lead.id.in_(pool))
                    ).all()
                )
                db.session.remove()
            print(f"\npurchase storm: {args.threads} buyers (threads, in {args.processes} "
                  f"process(es), switch interval {sys.getswitchinterval() * 1000:g} ms), "
                  f"purchase_leads of one lead "
                  f"from a pool of {len(pool):,} on sale, {args.storm_seconds:.0f}s; "
                  f"load {load()}")  # fmt: skip
            if args.processes > 1:
                storm = storm_in_processes(
                    url, buyer_ids, pool, args.storm_seconds, args.processes
                )
            else:
                storm = purchase_storm(app, buyer_ids, pool, args.storm_seconds)
            with app.app_context():
                checked = count_oversells(pool, before, buyer_ids)
                wrong_wallets = wallets_agree(buyer_ids, WALLET_CENTS)
            rate = storm["ok"] / storm["seconds"]
            print(
                f"  {storm['ok']:,} purchases ({storm['leads']:,} leads) in "
                f"{storm['seconds']:.1f}s = {rate:,.0f} purchases/s; refused "
                f"{storm['refused']}; errors {len(storm['errors'])}; latency p50 "
                f"{pct(storm['latency'], 0.5):.1f} ms, p95 {pct(storm['latency'], 0.95):.1f} ms; "
                f"bench process CPU {storm['cpu'] / storm['seconds']:.2f} cores; load {load()}"
            )
            for error in storm["errors"][:5]:
                print(f"    error: {error}")
            print(f"  after: {checked}; wallets off: {wrong_wallets}")

            if pg:
                from bench import purchase_floor

                with app.app_context():
                    orgs = [db.session.get(User, uid).organization_id for uid in buyer_ids]
                    from app.db import transaction
                    from billing import ledger
                    from marketplace.models import SellerAccount

                    with transaction():
                        for (seller,) in db.session.execute(select(SellerAccount.organization_id)):
                            ledger.get_account("seller_pending", seller)
                    floor_pool = storm_pool(args.pool, args.seed + 1)
                    db.session.remove()
                dsn = url.replace("postgresql+psycopg://", "postgresql://")
                for revenue_row in (True, False):
                    balances = purchase_floor.snapshot(dsn)
                    got = purchase_floor.run(
                        dsn, orgs, floor_pool, args.floor_seconds, revenue_row=revenue_row
                    )
                    after = purchase_floor.restore(dsn, balances)
                    frate = got["ok"] / got["seconds"]
                    what = "with" if revenue_row else "without"
                    print(
                        f"  purchase floor (bench/purchase_floor.py, raw SQL, {what} the platform "
                        f"revenue row's UPDATE): {frate:,.0f} purchases/s, refused "
                        f"{got['refused']}, errors {len(got['errors'])}; {after}; "
                        f"storm/floor = {rate / frate:.2f}; load {load()}"
                    )
                    for error in got["errors"][:3]:
                        print(f"    error: {error}")
                with app.app_context():
                    from billing import ledger

                    print(f"  ledger check after the floors: {[str(p) for p in ledger.check()]}")
                    db.session.remove()

        if pg and args.floor_dsn and SEARCH_FLOOR.exists():
            print(
                f"\nshared/floors/search_floor.py --rows {rows:,} on {args.floor_dsn}; "
                f"load {load()}"
            )
            queries, purchases, text = search_floor(args.floor_dsn, rows, args.reps)
            print(
                f"  {'combination':58s} {'API p95':>8s} {'floor p95':>9s} {'ratio':>6s}  "
                "floor query"
            )
            for result in searches:
                name = FLOOR_OF.get(result["name"], "q1 vertical")
                if name in queries:
                    p95 = queries[name][1]
                    print(f"  {result['name']:58s} {result['p95']:8.1f} {p95:9.2f} "
                          f"{result['p95'] / p95:6.1f}  {name}")  # fmt: skip
            if "round trip SELECT 1" in queries:
                print(f"  round trip SELECT 1: p95 {queries['round trip SELECT 1'][1]:.2f} ms")
            for label, value in purchases.items():
                ratio = (
                    f"storm/floor = {storm['ok'] / storm['seconds'] / value:.2f}" if storm else ""
                )
                print(f"  floor purchases, {label}: {value:,.0f}/s  {ratio}")
            if not queries:
                print(text[-3000:])
        print(f"\nload at the end: {load()}")
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        if not args.keep:
            drop(url)
            print("database removed (--keep keeps it)")
        shutil.rmtree(instance, ignore_errors=True)


if __name__ == "__main__":
    main()
