"""join verification and billing

Revision ID: 0005_merge
Revises: 0003_verification, 0004_billing
Create Date: 2026-11-23 12:11:00.638582

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005_merge'
down_revision = ('0003_verification', '0004_billing')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
