"""Migrations 0008_listings and 0012_area_keys fill the new columns of leads already stored: the
postal, region and city search keys of every lead, and the expiry of listed ones (captured_at +
the vertical's maximum age)."""

import os
from datetime import UTC, datetime, timedelta

from flask_migrate import upgrade
from sqlalchemy import MetaData, select

from app import create_app
from app.extensions import db
from marketplace.models import Lead
from tests.helpers import empty_database

MIGRATIONS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "migrations")
CAPTURED = datetime(2026, 11, 1, 12, 30, 15, 250000, tzinfo=UTC)


def _stored_lead(conn, tables, *, status: str, postal_code, row: int, **more) -> None:
    lead = {
        "batch_id": 1, "seller_id": 1, "vertical_id": 1, "row_number": row, "status": status,
        "is_paused": False, "price_cents": 1500, "currency": "usd", "max_sales": 1,
        "sales_count": 0, "created_at": CAPTURED, "first_name": "Ann", "last_name": "Lee",
        "phone_confirmed_mobile": False, "country": "GB", "postal_code": postal_code,
        "captured_at": CAPTURED, "consent_text": "Yes", "consented_at": CAPTURED,
        "interest_signals": [], "extra": {}, "bant_budget": False, "bant_authority": False,
        "bant_need": False, "bant_timing": False, "bant_met": 0, "champ": 0, "anum": 0,
        "faint": 0, "gpct": 0, "stage": "unqualified", "claimed_stage_unsupported": False,
        "score": 10, "score_breakdown": [], "temperature": "cold",
    }  # fmt: skip
    conn.execute(tables["leads"].insert().values(**lead, **more))


def test_existing_leads_get_their_postal_key_and_listed_ones_their_expiry(app, tmp_path):
    url, drop = empty_database(app, tmp_path)
    try:
        fresh = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
        with fresh.app_context():
            upgrade(directory=MIGRATIONS, revision="0006_session_version")
            tables = MetaData()
            tables.reflect(db.engine, only=["organizations", "batches", "leads", "verticals"])
            tables = tables.tables
            with db.engine.begin() as conn:
                vertical = conn.scalar(
                    select(tables["verticals"].c.id).where(tables["verticals"].c.slug == "solar")
                )
                conn.execute(
                    tables["verticals"].update().values(max_lead_age_days=30)
                    .where(tables["verticals"].c.id == vertical)
                )  # fmt: skip
                conn.execute(
                    tables["organizations"]
                    .insert()
                    .values(id=1, name="Seller", kind="seller", created_at=CAPTURED)
                )
                conn.execute(
                    tables["batches"].insert().values(
                        id=1, seller_id=1, vertical_id=vertical, name="B", price_cents=1500,
                        currency="usd", max_sales=1, status="listed", source_format="json",
                        column_map={}, processed_rows=3, accepted_count=3, rejected_count=0,
                        duplicate_count=0, created_at=CAPTURED,
                    )
                )  # fmt: skip
                _stored_lead(
                    conn, tables, status="listed", postal_code="SW1A 1AA", row=1,
                    region="England", city="Saint  Albans ",
                )  # fmt: skip
                _stored_lead(conn, tables, status="pending", postal_code="ec1a 1bb", row=2)
                _stored_lead(conn, tables, status="listed", postal_code=None, row=3)
                conn.execute(tables["leads"].update().values(vertical_id=vertical))
            upgrade(directory=MIGRATIONS, revision="head")
            leads = db.session.scalars(select(Lead).order_by(Lead.row_number)).all()
            got = [(lead.postal_key, lead.expires_at) for lead in leads]
            keys = [(lead.region_key, lead.city_key) for lead in leads]
            db.session.remove()
            db.engine.dispose()
        expiry = CAPTURED + timedelta(days=30)
        assert got == [("SW1A1AA", expiry), ("EC1A1BB", None), (None, expiry)]
        # 0012: the region and city keys the market's filters match, lower-cased.
        assert keys == [("england", "saint albans"), (None, None), (None, None)]
    finally:
        drop()
