"""real-time streams: streams, their plan history and pings; order holds; stream settings;
the spot-check queue's rank (live leads first) and queue time

Revision ID: 0015_streams
Revises: 0014_notifications
Create Date: 2026-12-04 09:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0015_streams"
down_revision = "0014_notifications"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "streams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seller_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("paused_by", sa.String(length=8), nullable=True),
        sa.Column("mode", sa.String(length=10), nullable=False),
        sa.Column("conforming_run", sa.Integer(), nullable=False),
        sa.Column("screened", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "mode IN ('screening', 'sampling')", name=op.f("ck_streams_mode")
        ),
        sa.CheckConstraint("status IN ('active', 'paused')", name=op.f("ck_streams_status")),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batches.id"], name=op.f("fk_streams_batch_id_batches")
        ),
        sa.ForeignKeyConstraint(
            ["seller_id"], ["organizations.id"], name=op.f("fk_streams_seller_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_streams")),
        sa.UniqueConstraint("batch_id", name=op.f("uq_streams_batch_id")),
    )
    with op.batch_alter_table("streams", schema=None) as batch_op:
        batch_op.create_index("ix_streams_seller", ["seller_id", "id"], unique=False)

    op.create_table(
        "stream_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stream_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_stream_events_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_stream_events_lead_id_leads")
        ),
        sa.ForeignKeyConstraint(
            ["stream_id"],
            ["streams.id"],
            name=op.f("fk_stream_events_stream_id_streams"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stream_events")),
    )
    with op.batch_alter_table("stream_events", schema=None) as batch_op:
        batch_op.create_index("ix_stream_events_stream", ["stream_id", "id"], unique=False)

    op.create_table(
        "stream_pings",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("stream_id", sa.Integer(), nullable=False),
        sa.Column("hold_id", sa.Integer(), nullable=True),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["stream_id"],
            ["streams.id"],
            name=op.f("fk_stream_pings_stream_id_streams"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stream_pings")),
    )

    op.create_table(
        "order_holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("saved_search_id", sa.Integer(), nullable=False),
        sa.Column("cents", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["saved_search_id"],
            ["saved_searches.id"],
            name=op.f("fk_order_holds_saved_search_id_saved_searches"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_holds")),
    )
    with op.batch_alter_table("order_holds", schema=None) as batch_op:
        batch_op.create_index(
            "ix_order_holds_search", ["saved_search_id", "expires_at"], unique=False
        )

    with op.batch_alter_table("platform_settings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("stream_aoql_pct", sa.Float(), nullable=False, server_default="2.0")
        )
        batch_op.add_column(
            sa.Column(
                "stream_sampling_fraction", sa.Float(), nullable=False, server_default="0.1"
            )
        )
        batch_op.add_column(sa.Column("stream_screening_limit", sa.Integer(), nullable=True))
    with op.batch_alter_table("platform_settings", schema=None) as batch_op:
        batch_op.alter_column("stream_aoql_pct", server_default=None)
        batch_op.alter_column("stream_sampling_fraction", server_default=None)

    # Existing items are batch samples: their rank is their batch id.
    with op.batch_alter_table("spot_check_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("queue_rank", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE spot_check_items SET queue_rank = batch_id")
    with op.batch_alter_table("spot_check_items", schema=None) as batch_op:
        batch_op.alter_column("queue_rank", existing_type=sa.Integer(), nullable=False)
        batch_op.create_index(
            "ix_spot_check_items_status_rank", ["status", "queue_rank", "id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("spot_check_items", schema=None) as batch_op:
        batch_op.drop_index("ix_spot_check_items_status_rank")
        batch_op.drop_column("queued_at")
        batch_op.drop_column("queue_rank")
    with op.batch_alter_table("platform_settings", schema=None) as batch_op:
        batch_op.drop_column("stream_screening_limit")
        batch_op.drop_column("stream_sampling_fraction")
        batch_op.drop_column("stream_aoql_pct")
    with op.batch_alter_table("order_holds", schema=None) as batch_op:
        batch_op.drop_index("ix_order_holds_search")
    op.drop_table("order_holds")
    op.drop_table("stream_pings")
    with op.batch_alter_table("stream_events", schema=None) as batch_op:
        batch_op.drop_index("ix_stream_events_stream")
    op.drop_table("stream_events")
    with op.batch_alter_table("streams", schema=None) as batch_op:
        batch_op.drop_index("ix_streams_seller")
    op.drop_table("streams")
