"""disputes: a return per purchased lead (UNIQUE), the seller's answers, the lead's flagged field
and the bought lead's view of its dispute

Revision ID: 0013_disputes
Revises: 0012_area_keys
Create Date: 2026-12-02 08:02:43.971789

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013_disputes'
down_revision = '0012_area_keys'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('disputes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('purchased_lead_id', sa.Integer(), nullable=False),
    sa.Column('lead_id', sa.Integer(), nullable=False),
    sa.Column('purchase_id', sa.Integer(), nullable=False),
    sa.Column('buyer_org_id', sa.Integer(), nullable=False),
    sa.Column('seller_org_id', sa.Integer(), nullable=False),
    sa.Column('vertical_id', sa.Integer(), nullable=False),
    sa.Column('sale_id', sa.Integer(), nullable=True),
    sa.Column('price_cents', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('opened_by_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('resolution', sa.String(length=9), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deadline', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.Column('resolution_note', sa.Text(), nullable=True),
    sa.Column('answers', sa.JSON(), nullable=True),
    sa.CheckConstraint("status IN ('open', 'accepted', 'rejected')", name=op.f('ck_disputes_status')),
    sa.ForeignKeyConstraint(['buyer_org_id'], ['organizations.id'], name=op.f('fk_disputes_buyer_org_id_organizations')),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_disputes_lead_id_leads')),
    sa.ForeignKeyConstraint(['opened_by_id'], ['users.id'], name=op.f('fk_disputes_opened_by_id_users')),
    sa.ForeignKeyConstraint(['purchase_id'], ['purchases.id'], name=op.f('fk_disputes_purchase_id_purchases')),
    sa.ForeignKeyConstraint(['purchased_lead_id'], ['purchased_leads.id'], name=op.f('fk_disputes_purchased_lead_id_purchased_leads')),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['users.id'], name=op.f('fk_disputes_resolved_by_id_users')),
    sa.ForeignKeyConstraint(['sale_id'], ['sales.id'], name=op.f('fk_disputes_sale_id_sales')),
    sa.ForeignKeyConstraint(['seller_org_id'], ['organizations.id'], name=op.f('fk_disputes_seller_org_id_organizations')),
    sa.ForeignKeyConstraint(['vertical_id'], ['verticals.id'], name=op.f('fk_disputes_vertical_id_verticals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disputes')),
    sa.UniqueConstraint('purchased_lead_id', name=op.f('uq_disputes_purchased_lead_id'))
    )
    with op.batch_alter_table('disputes', schema=None) as batch_op:
        batch_op.create_index('ix_disputes_buyer_created', ['buyer_org_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_disputes_lead_id'), ['lead_id'], unique=False)
        batch_op.create_index('ix_disputes_seller_created', ['seller_org_id', 'created_at'], unique=False)
        batch_op.create_index('ix_disputes_status_created', ['status', 'created_at', 'id'], unique=False)

    op.create_table('dispute_responses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dispute_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_dispute_responses_author_id_users')),
    sa.ForeignKeyConstraint(['dispute_id'], ['disputes.id'], name=op.f('fk_dispute_responses_dispute_id_disputes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dispute_responses'))
    )
    with op.batch_alter_table('dispute_responses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dispute_responses_dispute_id'), ['dispute_id'], unique=False)

    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('flagged_field', sa.String(length=8), nullable=True))

    with op.batch_alter_table('purchased_leads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dispute_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('dispute_status', sa.String(length=8), nullable=True))



def downgrade():
    with op.batch_alter_table('purchased_leads', schema=None) as batch_op:
        batch_op.drop_column('dispute_status')
        batch_op.drop_column('dispute_id')

    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.drop_column('flagged_field')

    with op.batch_alter_table('dispute_responses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dispute_responses_dispute_id'))

    op.drop_table('dispute_responses')
    with op.batch_alter_table('disputes', schema=None) as batch_op:
        batch_op.drop_index('ix_disputes_status_created')
        batch_op.drop_index('ix_disputes_seller_created')
        batch_op.drop_index(batch_op.f('ix_disputes_lead_id'))
        batch_op.drop_index('ix_disputes_buyer_created')

    op.drop_table('disputes')
