"""listings: leads.expires_at and leads.postal_key, the market's partial indexes, backfilled

Revision ID: 0008_listings
Revises: 0006_session_version
Create Date: 2026-12-02 05:23:11.013102

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008_listings'
down_revision = '0006_session_version'
branch_labels = None
depends_on = None

# The clock-free part of the on-sale predicate: the partial indexes cover only these rows.
ON_SALE_ROWS = "status = 'listed' AND NOT is_paused AND sales_count < max_sales"
INDEXES = (
    ('ix_leads_on_sale_newest', ['listed_at', 'id'], {}),
    ('ix_leads_on_sale_score', ['score', 'id'], {}),
    ('ix_leads_on_sale_price', ['price_cents', 'id'], {}),
    ('ix_leads_on_sale_vertical', ['vertical_id', 'listed_at', 'id'], {}),
    ('ix_leads_on_sale_city', ['city', 'country'], {}),
    # LIKE 'prefix%' uses a b-tree on PostgreSQL only with the pattern operator class.
    ('ix_leads_on_sale_postal_key', ['postal_key'],
     {'postgresql_ops': {'postal_key': 'text_pattern_ops'}}),
)


def upgrade():
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('postal_key', sa.String(length=32), nullable=True))
        for name, columns, options in INDEXES:
            batch_op.create_index(
                name, columns, unique=False,
                postgresql_where=sa.text(ON_SALE_ROWS), sqlite_where=sa.text(ON_SALE_ROWS),
                **options,
            )

    # Existing leads: the postal search key of every lead, the expiry of listed ones
    # (captured_at + their vertical's max_lead_age_days, as the app sets it when listing).
    op.execute(
        "UPDATE leads SET postal_key = UPPER(REPLACE(postal_code, ' ', '')) "
        "WHERE postal_code IS NOT NULL AND postal_code <> ''"
    )
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(
            "UPDATE leads SET expires_at = leads.captured_at "
            "+ make_interval(days => verticals.max_lead_age_days) "
            "FROM verticals WHERE verticals.id = leads.vertical_id AND leads.status = 'listed'"
        )
    else:
        # SQLite keeps UTC times as text 'YYYY-MM-DD HH:MM:SS.ffffff': whole seconds move,
        # the fraction is carried over.
        op.execute(
            "UPDATE leads SET expires_at = strftime('%Y-%m-%d %H:%M:%S', captured_at, '+' || "
            "(SELECT max_lead_age_days FROM verticals WHERE verticals.id = leads.vertical_id) "
            "|| ' days') || substr(captured_at, 20) WHERE status = 'listed'"
        )


def downgrade():
    with op.batch_alter_table('leads', schema=None) as batch_op:
        for name, _columns, _options in reversed(INDEXES):
            batch_op.drop_index(name)
        batch_op.drop_column('postal_key')
        batch_op.drop_column('expires_at')
