"""Random sequences of money movements keep the books sound (Hypothesis, at the service level).

Top-ups are applied as the Stripe webhook applies them and refunds are settled or failed as
Stripe's answers would settle them, so no Stripe server is needed.
"""

from collections import defaultdict
from datetime import timedelta

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.db import transaction, utcnow
from app.errors import Conflict, Invalid
from app.extensions import db
from app.settings import get_settings
from billing import ledger, queries, services
from billing.errors import InsufficientFunds
from billing.models import LedgerEntry, Payout, RefundPart, Sale, TopUp
from tests.billing.helpers import fund_wallet, make_org
from tests.helpers import clean_database

BUYERS, SELLERS = 2, 2

operations = st.one_of(
    st.tuples(st.just("top_up"), st.integers(0, BUYERS - 1), st.integers(500, 20_000)),
    st.tuples(
        st.just("sale"),
        st.integers(0, BUYERS - 1),
        st.integers(0, SELLERS - 1),
        st.integers(1, 3_000),
        st.integers(0, 3),
    ),
    st.tuples(st.just("reverse"), st.integers(0, 50)),
    st.tuples(st.just("hold"), st.integers(0, 50), st.booleans()),
    st.tuples(st.just("release"), st.integers(0, 10)),
    st.tuples(st.just("payout"), st.integers(0, SELLERS - 1), st.none() | st.integers(1, 8_000)),
    st.tuples(st.just("pay"), st.integers(0, 50)),
    st.tuples(
        st.just("refund"),
        st.integers(0, BUYERS - 1),
        st.integers(1, 6_000),
        st.lists(st.booleans(), min_size=1, max_size=4),
    ),
    st.tuples(st.just("fee"), st.sampled_from([0, 1, 333, 2000, 2500, 10_000])),
)


def _pick(rows, index):
    return rows[index % len(rows)] if rows else None


def _assert_books_sound(buyers, sellers):
    assert ledger.check() == []
    session = db.session
    # Every journal sums to zero (also in check) and no wallet is below zero.
    for org in buyers:
        assert queries.get_wallet_balance(org) >= 0
    # The platform's revenue is exactly the fees of the sales not reversed.
    fees = session.scalar(
        select(func.coalesce(func.sum(Sale.fee_cents), 0)).where(Sale.status != "reversed")
    )
    assert ledger.balance_of("platform_revenue") == fees
    # Each balance is what the business records say it should be.
    for org in buyers:
        paid_in = session.scalar(
            select(func.coalesce(func.sum(TopUp.amount_cents), 0)).where(
                TopUp.organization_id == org, TopUp.status == "succeeded"
            )
        )
        spent = session.scalar(
            select(func.coalesce(func.sum(Sale.amount_cents), 0)).where(
                Sale.buyer_org_id == org, Sale.status != "reversed"
            )
        )
        refunded = session.scalar(
            select(func.coalesce(func.sum(RefundPart.amount_cents), 0))
            .join(RefundPart.refund)
            .where(RefundPart.status != "failed", RefundPart.refund.has(organization_id=org))
        )
        assert queries.get_wallet_balance(org) == paid_in - spent - refunded
    for org in sellers:
        by_status = defaultdict(int)
        for status, cents in session.execute(
            select(Sale.status, func.sum(Sale.seller_cents))
            .where(Sale.seller_org_id == org)
            .group_by(Sale.status)
        ):
            by_status[status] = int(cents)
        payouts = defaultdict(int)
        for status, cents in session.execute(
            select(Payout.status, func.sum(Payout.amount_cents))
            .where(Payout.organization_id == org)
            .group_by(Payout.status)
        ):
            payouts[status] = int(cents)
        figures = queries.get_earnings(org)
        assert figures["pending_cents"] == by_status["pending"]
        assert figures["paid_out_cents"] == payouts["paid"]
        assert figures["requested_cents"] == payouts["requested"]
        assert figures["available_cents"] == (
            by_status["released"] - payouts["paid"] - payouts["requested"]
        )
    # Money neither appears nor vanishes: all balances together are zero.
    assert session.scalar(select(func.sum(LedgerEntry.amount_cents))) in (None, 0)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    funding=st.lists(st.integers(2_000, 20_000), min_size=BUYERS, max_size=BUYERS),
    steps=st.lists(operations, min_size=8, max_size=40),
)
def test_random_money_movements_keep_the_books_sound(app, funding, steps):
    db.session.remove()
    clean_database()
    buyers = [make_org("buyer") for _ in range(BUYERS)]
    sellers = [make_org("seller") for _ in range(SELLERS)]
    for org in sellers:
        services.save_payout_details(seller_org_id=org, details="bank")
    expected_wallet = defaultdict(int)
    for org, cents in zip(buyers, funding, strict=True):
        fund_wallet(org, cents)
        expected_wallet[org] += cents
    clock = utcnow()
    for step in steps:
        name = step[0]
        sales = db.session.scalars(select(Sale).order_by(Sale.id)).all()
        if name == "top_up":
            _, b, cents = step
            fund_wallet(buyers[b], cents)
            expected_wallet[buyers[b]] += cents
        elif name == "sale":
            _, b, s, cents, window_days = step
            try:
                services.charge_purchase(
                    buyer_org_id=buyers[b],
                    seller_org_id=sellers[s],
                    amount_cents=cents,
                    reference="p",
                    idempotency_key=f"k{len(sales)}:{b}:{s}:{cents}:{clock}",
                    release_after=clock + timedelta(days=window_days),
                )
                assert expected_wallet[buyers[b]] >= cents
                expected_wallet[buyers[b]] -= cents
                event("sale made")
            except InsufficientFunds:
                assert expected_wallet[buyers[b]] < cents
                event("sale refused: wallet too low")
        elif name == "reverse":
            sale = _pick([x for x in sales if x.status == "pending"], step[1])
            if sale:
                services.reverse_sale(sale_id=sale.id, reference="dispute")
                services.reverse_sale(sale_id=sale.id, reference="dispute")  # once only
                event("sale reversed")
                expected_wallet[sale.buyer_org_id] += sale.amount_cents
        elif name == "hold":
            sale = _pick(sales, step[1])
            if sale:
                try:
                    services.set_sale_hold(sale_id=sale.id, is_held=step[2])
                except Conflict as exc:
                    # Only a sale no longer pending refuses a hold (its money has moved).
                    db.session.refresh(sale)
                    assert exc.code == "sale_released" and step[2] and sale.status != "pending"
                    event("hold refused")
        elif name == "release":
            clock += timedelta(days=step[1])
            if services.release_earnings(now=clock):
                event("earnings released")
        elif name == "payout":
            _, s, cents = step
            try:
                services.request_payout(seller_org_id=sellers[s], amount_cents=cents)
                event("payout requested")
            except Invalid as exc:
                assert exc.code == "amount_exceeds_available"
        elif name == "pay":
            payouts = db.session.scalars(
                select(Payout).where(Payout.status == "requested").order_by(Payout.id)
            ).all()
            payout = _pick(payouts, step[1])
            if payout:
                services.mark_payout_paid(payout_id=payout.id, reference=f"T{payout.id}")
                event("payout paid")
        elif name == "refund":
            _, b, cents, outcomes = step
            try:
                refund, _ = services.start_wallet_refund(
                    buyer_org_id=buyers[b], amount_cents=cents
                )
            except InsufficientFunds:
                assert expected_wallet[buyers[b]] < cents
                continue
            expected_wallet[buyers[b]] -= cents
            event(f"refund in {len(refund.parts)} part(s)")
            for i, part in enumerate(list(refund.parts)):
                with transaction():
                    if outcomes[i % len(outcomes)]:
                        services.settle_refund_part(part.id, stripe_refund_id=f"re_{part.id}")
                    else:
                        services.fail_refund_part(part.id, message="declined")
                        expected_wallet[buyers[b]] += part.amount_cents
        elif name == "fee":
            with transaction():
                get_settings().platform_fee_bps = step[1]
        for org in buyers:
            assert queries.get_wallet_balance(org) == expected_wallet[org]
    _assert_books_sound(buyers, sellers)
    # Then everything due is released and paid out, so every example ends through payouts.
    services.release_earnings(now=clock + timedelta(days=30))
    for org in sellers:
        try:
            payout = services.request_payout(seller_org_id=org)
        except Invalid:
            continue
        services.mark_payout_paid(payout_id=payout.id, reference="final")
        event("final payout")
    _assert_books_sound(buyers, sellers)
