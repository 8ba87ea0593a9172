"""listings: case-insensitive region and city filters through leads.region_key and city_key

The market matched region and city exactly, so "oakland" found nothing where sellers wrote
"Oakland". Each lead now stores both lower-cased with runs of spaces made one (the same
``area_key`` intake uses), and the city index moves to the key. Backfilled per distinct value
in Python, so the database's own lower() (ASCII-only on SQLite) never disagrees with intake.

Revision ID: 0012_area_keys
Revises: 0011_autobuy
Create Date: 2026-12-02 08:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0012_area_keys'
down_revision = '0011_autobuy'
branch_labels = None
depends_on = None

ON_SALE_ROWS = "status = 'listed' AND NOT is_paused AND sales_count < max_sales"


def _key(text):
    return " ".join(text.split()).lower() or None if text else None


def _index(batch_op, name, columns):
    batch_op.create_index(
        name, columns, unique=False,
        postgresql_where=sa.text(ON_SALE_ROWS), sqlite_where=sa.text(ON_SALE_ROWS),
    )


def upgrade():
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('region_key', sa.String(length=1000), nullable=True))
        batch_op.add_column(sa.Column('city_key', sa.String(length=1000), nullable=True))
        batch_op.drop_index('ix_leads_on_sale_city')
        _index(batch_op, 'ix_leads_on_sale_city', ['city_key', 'country'])

    bind = op.get_bind()
    for column in ('region', 'city'):
        values = bind.execute(sa.text(
            f"SELECT DISTINCT {column} FROM leads WHERE {column} IS NOT NULL"
        )).scalars().all()
        for value in values:
            bind.execute(
                sa.text(f"UPDATE leads SET {column}_key = :key WHERE {column} = :value"),
                {"key": _key(value), "value": value},
            )


def downgrade():
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.drop_index('ix_leads_on_sale_city')
        _index(batch_op, 'ix_leads_on_sale_city', ['city', 'country'])
        batch_op.drop_column('city_key')
        batch_op.drop_column('region_key')
