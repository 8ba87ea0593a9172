"""billing: the platform's accounts keep no cached balance (the sum of their entries)

Revision ID: 0016_platform_balances
Revises: 0015_streams
Create Date: 2026-12-02 08:05:00.000000

Every sale updated the one platform revenue row and held its lock until commit, so purchases
ran one at a time. Their balance is now read as the sum of their entries; the column stays 0.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0016_platform_balances'
down_revision = '0015_streams'
branch_labels = None
depends_on = None

PLATFORM = "('platform_revenue', 'stripe_clearing', 'refunds')"


def upgrade():
    op.execute(f"UPDATE ledger_accounts SET balance_cents = 0 WHERE kind IN {PLATFORM}")


def downgrade():
    op.execute(
        "UPDATE ledger_accounts SET balance_cents = (SELECT COALESCE(SUM(e.amount_cents), 0) "
        "FROM ledger_entries e WHERE e.account_id = ledger_accounts.id) "
        f"WHERE kind IN {PLATFORM}"
    )
