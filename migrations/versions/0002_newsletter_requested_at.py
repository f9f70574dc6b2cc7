"""Newsletter: when the pending subscription request was made, so a confirmation link is valid only for the
request it was sent for (an old link must not confirm a later re-subscription).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 01:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('newsletter_subscribers', sa.Column('requested_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column('newsletter_subscribers', 'requested_at')
