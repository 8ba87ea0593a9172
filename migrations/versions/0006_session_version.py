"""users.session_version: end every session and remember cookie of a user at once

Revision ID: 0006_session_version
Revises: 0005_merge
Create Date: 2026-11-24 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_session_version'
down_revision = '0005_merge'
branch_labels = None
depends_on = None


def upgrade():
    # server_default fills the existing rows, so the column can be NOT NULL at once.
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default=sa.text('0'), nullable=False))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_version')
