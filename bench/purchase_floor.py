"""Floor of a whole purchase on PostgreSQL: the product's rows written in raw SQL, nothing else.

``shared/floors/search_floor.py``'s purchase is a guarded UPDATE and one INSERT: no wallet, no
seller and no platform revenue. This one writes, per purchase and in one transaction on the
app's own tables (``bench/market.py`` builds them), what ``purchase_leads`` writes for one lead:

    INSERT purchases; the lead's guarded UPDATE (the on-sale predicate, not the buyer's own);
    INSERT purchased_leads ON CONFLICT DO NOTHING; the ledger accounts' UPDATEs in id order
    (the wallet's guarded by its balance, the seller's pending earnings and, with
    ``revenue_row``, the platform revenue account's cached balance); INSERT sales,
    ledger_transactions, 3 ledger_entries; the bought row's sale_id and the purchase's total.

Prepared statements on one connection per thread, no ORM, no Python between statements but
the fee. Run with and without ``revenue_row``, the difference is what one cached balance row
that every purchase updates costs: each purchase holds its lock until COMMIT.

Its rows are removed afterwards and every balance and sales_count restored, so the database
is as it was (``restore``).
"""

from __future__ import annotations

import random
import threading
import time

import psycopg

FEE_BPS = 2000
LEAD = (
    "UPDATE leads SET sales_count = sales_count + 1 WHERE id = %s AND status = 'listed' "
    "AND NOT is_paused AND sales_count < max_sales AND expires_at > now() AND seller_id <> %s "
    "RETURNING price_cents, seller_id"
)
PURCHASE = (
    "INSERT INTO purchases (buyer_org_id, request_hash, status, total_cents, currency, "
    "skipped_lead_ids, created_at) VALUES (%s, 'floor', 'completed', 0, 'usd', '[]', now()) "
    "RETURNING id"
)
BOUGHT = (
    "INSERT INTO purchased_leads (purchase_id, lead_id, buyer_org_id, seller_org_id, price_cents, "
    "currency, purchased_at, return_deadline) VALUES (%s, %s, %s, %s, %s, 'usd', now(), "
    "now() + interval '7 days') ON CONFLICT (lead_id, buyer_org_id) DO NOTHING RETURNING id"
)
DEBIT = (
    "UPDATE ledger_accounts SET balance_cents = balance_cents + %s WHERE id = %s "
    "AND balance_cents + %s >= reserved_cents"
)
CREDIT = "UPDATE ledger_accounts SET balance_cents = balance_cents + %s WHERE id = %s"
SALE = (
    "INSERT INTO sales (idempotency_key, reference, buyer_org_id, seller_org_id, amount_cents, "
    "fee_bps, fee_cents, seller_cents, currency, status, is_held, release_after, created_at) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 'usd', 'pending', false, "
    "now() + interval '7 days', now()) RETURNING id"
)
JOURNAL = (
    "INSERT INTO ledger_transactions (kind, key, reference, currency, created_at) "
    "VALUES ('sale', %s, %s, 'usd', now()) RETURNING id"
)
ENTRIES = (
    "INSERT INTO ledger_entries (transaction_id, account_id, amount_cents, created_at) "
    "VALUES (%s, %s, %s, now()), (%s, %s, %s, now()), (%s, %s, %s, now())"
)
LINK = "UPDATE purchased_leads SET sale_id = %s WHERE id = %s"
TOTAL = "UPDATE purchases SET total_cents = %s WHERE id = %s"


def accounts(dsn: str) -> tuple[dict, dict, int]:
    """(buyer_wallet id by organisation, seller_pending id by organisation, platform revenue)."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT kind, organization_id, id FROM ledger_accounts WHERE kind IN "
            "('buyer_wallet', 'seller_pending', 'platform_revenue') AND currency = 'usd'"
        ).fetchall()
    wallets = {org: id_ for kind, org, id_ in rows if kind == "buyer_wallet"}
    pending = {org: id_ for kind, org, id_ in rows if kind == "seller_pending"}
    revenue = next(id_ for kind, _, id_ in rows if kind == "platform_revenue")
    return wallets, pending, revenue


def run(
    dsn: str, buyer_orgs: list[int], pool: list[int], seconds: float, *, revenue_row: bool
) -> dict:
    wallets, pending, revenue = accounts(dsn)
    stop = threading.Event()
    start = threading.Barrier(len(buyer_orgs) + 1)
    lock = threading.Lock()
    totals = {"ok": 0, "refused": 0, "errors": []}

    def buyer(index: int, org: int) -> None:
        rng = random.Random(1000 + index)
        ok = refused = 0
        errors = []
        with psycopg.connect(dsn) as conn:
            cur = conn.cursor()
            start.wait()
            while not stop.is_set():
                lead_id = rng.choice(pool)
                try:
                    with conn.transaction():
                        purchase = cur.execute(PURCHASE, (org,), prepare=True).fetchone()[0]
                        row = cur.execute(LEAD, (lead_id, org), prepare=True).fetchone()
                        if row is None:
                            raise _Refused
                        price, seller = row
                        bought = cur.execute(
                            BOUGHT, (purchase, lead_id, org, seller, price), prepare=True
                        ).fetchone()
                        if bought is None:
                            raise _Refused
                        fee = (price * FEE_BPS + 5_000) // 10_000
                        moves = [(wallets[org], -price), (pending[seller], price - fee)]
                        if revenue_row:
                            moves.append((revenue, fee))
                        for account_id, cents in sorted(moves):
                            if cents < 0:
                                cur.execute(DEBIT, (cents, account_id, cents), prepare=True)
                                if cur.rowcount != 1:
                                    raise _Refused
                            else:
                                cur.execute(CREDIT, (cents, account_id), prepare=True)
                        key = f"floor:{purchase}:{lead_id}"
                        sale = cur.execute(
                            SALE,
                            (key, key, org, seller, price, FEE_BPS, fee, price - fee),
                            prepare=True,
                        ).fetchone()[0]
                        journal = cur.execute(
                            JOURNAL, (f"floor-sale:{sale}", key), prepare=True
                        ).fetchone()[0]
                        cur.execute(
                            ENTRIES,
                            (journal, wallets[org], -price, journal, pending[seller],
                             price - fee, journal, revenue, fee),
                            prepare=True,
                        )  # fmt: skip
                        cur.execute(LINK, (sale, bought[0]), prepare=True)
                        cur.execute(TOTAL, (price, purchase), prepare=True)
                    ok += 1
                except _Refused:
                    refused += 1
                except psycopg.Error as exc:
                    errors.append(repr(exc)[:200])
        with lock:
            totals["ok"] += ok
            totals["refused"] += refused
            totals["errors"] += errors

    threads = [threading.Thread(target=buyer, args=(i, org)) for i, org in enumerate(buyer_orgs)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    totals["seconds"] = time.perf_counter() - began
    return totals


class _Refused(Exception):
    """The lead was sold out or bought by this buyer: the transaction rolls back."""


def snapshot(dsn: str) -> dict[int, int]:
    with psycopg.connect(dsn) as conn:
        return dict(conn.execute("SELECT id, balance_cents FROM ledger_accounts").fetchall())


def restore(dsn: str, balances: dict[int, int]) -> dict:
    """Remove the floor's rows; give back each lead's sales and each account its balance.
    Returns the floor's own consistency figures, read before removing its rows."""
    with psycopg.connect(dsn) as conn, conn.transaction():
        found = conn.execute(
            "SELECT count(*), count(DISTINCT pl.lead_id), "
            "count(*) FILTER (WHERE pl.sale_id IS NULL) FROM purchased_leads pl "
            "JOIN purchases p ON p.id = pl.purchase_id WHERE p.request_hash = 'floor'"
        ).fetchone()
        over = conn.execute(
            "SELECT count(*) FROM leads l JOIN (SELECT lead_id, count(*) n FROM purchased_leads "
            "GROUP BY lead_id) b ON b.lead_id = l.id WHERE b.n > l.max_sales"
        ).fetchone()[0]
        conn.execute(
            "UPDATE leads l SET sales_count = l.sales_count - b.n FROM (SELECT pl.lead_id, "
            "count(*) n FROM purchased_leads pl JOIN purchases p ON p.id = pl.purchase_id "
            "WHERE p.request_hash = 'floor' GROUP BY pl.lead_id) b WHERE b.lead_id = l.id"
        )
        conn.execute(
            "DELETE FROM ledger_entries WHERE transaction_id IN "
            "(SELECT id FROM ledger_transactions WHERE key LIKE 'floor-sale:%')"
        )
        conn.execute("DELETE FROM ledger_transactions WHERE key LIKE 'floor-sale:%'")
        conn.execute(
            "DELETE FROM purchased_leads WHERE purchase_id IN "
            "(SELECT id FROM purchases WHERE request_hash = 'floor')"
        )
        conn.execute("DELETE FROM sales WHERE idempotency_key LIKE 'floor:%'")
        conn.execute("DELETE FROM purchases WHERE request_hash = 'floor'")
        with conn.cursor() as cur:
            cur.executemany(
                "UPDATE ledger_accounts SET balance_cents = %s WHERE id = %s "
                "AND balance_cents <> %s",
                [(cents, id_, cents) for id_, cents in balances.items()],
            )
    return {"bought_rows": found[0], "leads": found[1], "rows_without_sale": found[2],
            "leads_over_max_sales": over}  # fmt: skip
