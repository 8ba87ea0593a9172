"""saved searches and auto-buy

Revision ID: 0011_autobuy
Revises: 0009_purchases
Create Date: 2026-12-02 06:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0011_autobuy"
down_revision = "0010_delivery"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "saved_searches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("buyer_org_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("filter", sa.JSON(), nullable=False),
        sa.Column("auto_buy_status", sa.String(length=8), nullable=True),
        sa.Column("max_price_cents", sa.Integer(), nullable=True),
        sa.Column("daily_cap", sa.Integer(), nullable=True),
        sa.Column("budget_cents", sa.Integer(), nullable=True),
        sa.Column("paused_reason", sa.Text(), nullable=True),
        sa.Column("spent_cents", sa.Integer(), nullable=False),
        sa.Column("bought_day", sa.Date(), nullable=True),
        sa.Column("bought_on_day", sa.Integer(), nullable=False),
        sa.Column("last_bought_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["buyer_org_id"],
            ["organizations.id"],
            name=op.f("fk_saved_searches_buyer_org_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_saved_searches_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_searches")),
    )
    with op.batch_alter_table("saved_searches", schema=None) as batch_op:
        batch_op.create_index("ix_saved_searches_buyer", ["buyer_org_id", "id"], unique=False)
        batch_op.create_index(
            "ix_saved_searches_auto_buy",
            ["auto_buy_status", "last_bought_at", "created_at"],
            unique=False,
        )
    op.create_table(
        "autobuy_runs",
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("fk_autobuy_runs_batch_id_batches")
        ),
        sa.PrimaryKeyConstraint("batch_id", name=op.f("pk_autobuy_runs")),
    )


def downgrade():
    op.drop_table("autobuy_runs")
    with op.batch_alter_table("saved_searches", schema=None) as batch_op:
        batch_op.drop_index("ix_saved_searches_auto_buy")
        batch_op.drop_index("ix_saved_searches_buyer")
    op.drop_table("saved_searches")
