"""The double-entry ledger: accounts, journals that sum to zero, cached balances, the check.

Helpers here only flush: the calling service owns the transaction. A balance moves only by
``post``, which writes the entries and moves each cached balance with one conditional UPDATE
(``balance_cents + :d >= reserved_cents``), so two transactions racing on one wallet cannot
take it below zero on SQLite (one writer at a time) or PostgreSQL (the row lock makes the second
UPDATE re-check the condition against the committed balance).

The platform's accounts (UNCACHED_ACCOUNTS) have no cached balance: every sale credits platform
revenue, and one row updated by every sale would hold each purchase's lock until it commits,
so purchases from different buyers and sellers would run one at a time. Their balance is the
sum of their entries. They are only ever debited to undo a credit (a reversed sale gives back
its own fee, a failed refund its own amount), so they need no floor at write time; ``check``
still reports a negative one.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, insert, select, update

from app.db import insert_if_absent, utcnow
from app.extensions import db
from billing.errors import InsufficientFunds, LedgerConflict
from billing.models import (
    ACCOUNT_KINDS,
    CURRENCY,
    ORGANIZATION_ACCOUNTS,
    SIGNED_ACCOUNTS,
    TRANSACTION_KINDS,
    UNCACHED_ACCOUNTS,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
)


def account_code(kind: str, organization_id: int | None, currency: str = CURRENCY) -> str:
    if kind in ORGANIZATION_ACCOUNTS:
        return f"{kind}:{organization_id}:{currency}"
    return f"{kind}:{currency}"


def _check_key(kind: str, organization_id: int | None) -> None:
    if kind not in ACCOUNT_KINDS:
        raise ValueError(f"unknown account kind {kind!r}")
    if (kind in ORGANIZATION_ACCOUNTS) != (organization_id is not None):
        raise ValueError(
            f"{kind} accounts {'need' if organization_id is None else 'have no'} organisation"
        )


# session.info key: (the session's transaction, {code: LedgerAccount}) of the accounts already
# read in that transaction. An account's code, id, kind and currency never change, so a purchase
# charging several leads reads each account once; a new transaction starts an empty cache (a
# rolled-back one may have made accounts that are gone).
_KNOWN = "billing.ledger.accounts"


def _known() -> dict[str, LedgerAccount]:
    session = db.session()
    transaction = session.get_transaction()
    held = session.info.get(_KNOWN)
    if held is None or held[0] is not transaction:
        held = (transaction, {})
        session.info[_KNOWN] = held
    return held[1]


def get_account(
    kind: str, organization_id: int | None = None, currency: str = CURRENCY
) -> LedgerAccount:
    """The account, created on first need (INSERT ... ON CONFLICT DO NOTHING: race-free)."""
    _check_key(kind, organization_id)
    code = account_code(kind, organization_id, currency)
    found = _known().get(code)
    if found is not None:
        return found
    session = db.session
    found = session.scalar(select(LedgerAccount).where(LedgerAccount.code == code))
    if found is None:
        insert_if_absent(
            LedgerAccount,
            key=["code"],
            code=code,
            kind=kind,
            organization_id=organization_id,
            currency=currency,
            balance_cents=0,
            reserved_cents=0,
        )
        found = session.scalar(select(LedgerAccount).where(LedgerAccount.code == code))
    _known()[code] = found
    return found


def find_account(kind: str, organization_id: int | None = None, currency: str = CURRENCY):
    """The account if it exists (reads never create accounts)."""
    code = account_code(kind, organization_id, currency)
    return db.session.scalar(select(LedgerAccount).where(LedgerAccount.code == code))


def balance_of(kind: str, organization_id: int | None = None, currency: str = CURRENCY) -> int:
    account = find_account(kind, organization_id, currency)
    if account is None:
        return 0
    if account.kind in UNCACHED_ACCOUNTS:
        return _sum_of_entries(account.id)
    db.session.refresh(account, ["balance_cents", "reserved_cents"])
    return account.balance_cents


def _sum_of_entries(account_id: int) -> int:
    return int(
        db.session.scalar(
            select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0)).where(
                LedgerEntry.account_id == account_id
            )
        )
    )


def post(
    *,
    kind: str,
    key: str,
    reference: str,
    lines: list[tuple[LedgerAccount, int]],
    currency: str = CURRENCY,
) -> int | None:
    """Write one journal: ``lines`` are (account, signed cents) and must sum to zero; its id.

    Raises InsufficientFunds when a wallet would go below zero (and LedgerConflict for any
    other account), before anything is written that the caller's rollback would not undo.
    Lines of zero cents are left out; a journal with no lines left is not written.
    """
    if kind not in TRANSACTION_KINDS:
        raise ValueError(f"unknown transaction kind {kind!r}")
    net: dict[int, int] = defaultdict(int)
    accounts: dict[int, LedgerAccount] = {}
    for account, cents in lines:
        if not isinstance(cents, int) or isinstance(cents, bool):
            raise TypeError("ledger amounts are integer cents")
        if account.currency != currency:
            raise ValueError("one journal, one currency")
        net[account.id] += cents
        accounts[account.id] = account
    if sum(net.values()) != 0:
        raise ValueError(f"journal {key} does not balance: {dict(net)}")
    moves = [(account_id, cents) for account_id, cents in sorted(net.items()) if cents]
    if not moves:
        return None
    session = db.session
    table = LedgerAccount.__table__
    # Accounts are always locked in id order, so two journals never wait on each other.
    for account_id, cents in moves:
        account = accounts[account_id]
        if account.kind in UNCACHED_ACCOUNTS:
            continue  # its balance is the sum of its entries: no row to update, none to queue on
        stmt = (
            update(table)
            .where(table.c.id == account_id)
            .values(balance_cents=table.c.balance_cents + cents)
        )
        if account.kind not in SIGNED_ACCOUNTS and cents < 0:
            stmt = stmt.where(table.c.balance_cents + cents >= table.c.reserved_cents)
        if session.execute(stmt).rowcount != 1:
            if account.kind == "buyer_wallet":
                raise InsufficientFunds(
                    details={"required_cents": -cents, "balance_cents": balance_of_id(account_id)}
                )
            raise LedgerConflict(details={"account": account.kind, "amount_cents": cents})
    now = utcnow()
    journal_id = session.execute(
        insert(LedgerTransaction.__table__)
        .values(kind=kind, key=key, reference=reference[:200], currency=currency, created_at=now)
        .returning(LedgerTransaction.__table__.c.id)
    ).scalar_one()
    session.execute(
        insert(LedgerEntry.__table__),
        [
            {
                "transaction_id": journal_id,
                "account_id": account_id,
                "amount_cents": cents,
                "created_at": now,
            }
            for account_id, cents in moves
        ],
    )
    for account_id, _ in moves:
        session.expire(accounts[account_id], ["balance_cents", "reserved_cents"])
    return journal_id


def lock_accounts(keys, currency: str = CURRENCY) -> dict[tuple, LedgerAccount]:
    """Lock several accounts at once, in id order, before a use case posts several journals;
    the accounts by ``(kind, organization_id)``, their balances read under the lock.

    Each ``post`` locks its own accounts in id order, but a use case posting many journals (a
    purchase of leads from several sellers) would lock their union in the order of its journals,
    and two such transactions on PostgreSQL could wait on each other. Taking every lock first,
    in one ordered ``SELECT ... FOR UPDATE``, keeps one global order. The accounts are read by
    one SELECT; missing ones are made first, in code order. ``keys`` are ``(kind,
    organization_id)`` pairs. On SQLite (one writer at a time) this only makes and reads the
    accounts. The platform's accounts are made, not locked: ``post`` never updates their row.
    The accounts stay known to ``get_account`` for the rest of the transaction.
    """
    wanted = sorted(set(keys), key=lambda key: account_code(key[0], key[1], currency))
    for kind, org in wanted:
        _check_key(kind, org)
    codes = {account_code(kind, org, currency): (kind, org) for kind, org in wanted}
    known = _known()
    missing = [code for code in codes if code not in known]
    if missing:
        rows = db.session.scalars(select(LedgerAccount).where(LedgerAccount.code.in_(missing)))
        known = _known()  # that SELECT may have begun the transaction
        for account in rows:
            known[account.code] = account
        for code in missing:
            if code not in known:
                known[code] = get_account(*codes[code], currency)
    found = {codes[code]: known[code] for code in codes}
    ids = sorted({a.id for a in found.values() if a.kind not in UNCACHED_ACCOUNTS})
    if ids:
        db.session.execute(
            select(LedgerAccount)
            .where(LedgerAccount.id.in_(ids))
            .order_by(LedgerAccount.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).all()
    return found


def balance_of_id(account_id: int) -> int:
    table = LedgerAccount.__table__
    return db.session.execute(
        select(table.c.balance_cents).where(table.c.id == account_id)
    ).scalar_one()


def reserve(account: LedgerAccount, cents: int) -> bool:
    """Promise ``cents`` of the account's balance (payouts); False when not that much is free."""
    table = LedgerAccount.__table__
    result = db.session.execute(
        update(table)
        .where(table.c.id == account.id, table.c.balance_cents - table.c.reserved_cents >= cents)
        .values(reserved_cents=table.c.reserved_cents + cents)
    )
    db.session.expire(account, ["balance_cents", "reserved_cents"])
    return result.rowcount == 1


def unreserve(account: LedgerAccount, cents: int) -> None:
    table = LedgerAccount.__table__
    result = db.session.execute(
        update(table)
        .where(table.c.id == account.id, table.c.reserved_cents >= cents)
        .values(reserved_cents=table.c.reserved_cents - cents)
    )
    db.session.expire(account, ["balance_cents", "reserved_cents"])
    if result.rowcount != 1:
        raise LedgerConflict(details={"account": account.kind, "reserved_cents": cents})


def platform_fee_cents(amount_cents: int, fee_bps: int) -> int:
    """The platform's fee: ``fee_bps`` of the amount, rounded half up to a whole cent.

    Integer arithmetic only. Half a cent goes to the platform; the seller gets the rest
    (``amount - fee``), so seller + fee is always exactly the amount.
    """
    return (amount_cents * fee_bps + 5_000) // 10_000


@dataclass
class Problem:
    kind: str
    subject: str
    expected: int
    found: int

    def __str__(self) -> str:
        return f"{self.kind}: {self.subject} expected {self.expected}, found {self.found}"


def check() -> list[Problem]:
    """Every cached balance against the sum of its entries (an uncached account's column must
    stay 0), every journal against zero, and every balance against its floor. An empty list
    means the ledger is sound."""
    session = db.session
    problems: list[Problem] = []
    sums = dict(
        session.execute(
            select(
                LedgerEntry.account_id, func.coalesce(func.sum(LedgerEntry.amount_cents), 0)
            ).group_by(LedgerEntry.account_id)
        ).all()
    )
    for account in session.scalars(select(LedgerAccount).order_by(LedgerAccount.id)):
        session.refresh(account)
        total = int(sums.get(account.id, 0))
        cached = account.kind not in UNCACHED_ACCOUNTS
        if account.balance_cents != (total if cached else 0):
            problems.append(
                Problem(
                    "cached_balance", account.code, total if cached else 0, account.balance_cents
                )
            )
        if account.kind not in SIGNED_ACCOUNTS and total < 0:
            problems.append(Problem("negative_balance", account.code, 0, total))
        if account.reserved_cents and account.reserved_cents > account.balance_cents:
            problems.append(
                Problem(
                    "over_reserved", account.code, account.balance_cents, account.reserved_cents
                )
            )
    unbalanced = session.execute(
        select(LedgerEntry.transaction_id, func.sum(LedgerEntry.amount_cents))
        .group_by(LedgerEntry.transaction_id)
        .having(func.sum(LedgerEntry.amount_cents) != 0)
    ).all()
    for transaction_id, total in unbalanced:
        problems.append(
            Problem("unbalanced_journal", f"transaction {transaction_id}", 0, int(total))
        )
    return problems
