"""listings: on-sale indexes for a city's newest leads and for the good sellers' leads

Revision ID: 0017_market_indexes
Revises: 0016_platform_balances
Create Date: 2026-12-02 08:25:00.000000

Measured by bench/market.py at 1,000,000 leads: a mid-sized city's page sorted all its leads
(city, country gave no order), and min_seller_quality with a vertical combined two bitmaps per
good seller (0.7 s).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017_market_indexes'
down_revision = '0016_platform_balances'
branch_labels = None
depends_on = None

# The clock-free part of the on-sale predicate (as 0008_listings).
ON_SALE_ROWS = "status = 'listed' AND NOT is_paused AND sales_count < max_sales"


def _create(batch_op, name, columns):
    batch_op.create_index(
        name, columns, unique=False,
        postgresql_where=sa.text(ON_SALE_ROWS), sqlite_where=sa.text(ON_SALE_ROWS),
    )


def upgrade():
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.drop_index('ix_leads_on_sale_city')
        _create(batch_op, 'ix_leads_on_sale_city_newest', ['city_key', 'listed_at', 'id'])
        _create(batch_op, 'ix_leads_on_sale_seller', ['seller_id', 'vertical_id', 'listed_at', 'id'])


def downgrade():
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.drop_index('ix_leads_on_sale_seller')
        batch_op.drop_index('ix_leads_on_sale_city_newest')
        _create(batch_op, 'ix_leads_on_sale_city', ['city_key', 'country'])
