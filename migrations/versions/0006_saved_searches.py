"""Saved searches with e-mail alerts (issue 8, section 5): subscriptions, the cars each was alerted about,
the matching job's high-water mark, and an index on price changes by time for the job.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 14:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'saved_searches',
        sa.Column('id', sa.BigInteger(), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('query', sa.Text(), server_default='', nullable=False),
        sa.Column('frequency', sa.String(length=10), server_default='immediate', nullable=False),
        sa.Column('status', sa.String(length=10), server_default='pending', nullable=False),
        sa.Column('language', sa.String(length=2), server_default='fi', nullable=False),
        sa.Column('consent_text', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('requested_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'active')", name=op.f('ck_saved_searches_status_valid')),
        sa.CheckConstraint("frequency IN ('immediate', 'daily')", name=op.f('ck_saved_searches_frequency_valid')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_searches')),
    )
    op.create_index('uq_saved_searches_email_query', 'saved_searches', [sa.text('lower(email)'), 'query'],
                    unique=True)
    op.create_index('ix_saved_searches_active', 'saved_searches', ['query'],
                    postgresql_where=sa.text("status = 'active'"))
    op.create_table(
        'saved_search_hits',
        sa.Column('saved_search_id', sa.BigInteger(), nullable=False),
        sa.Column('car_id', sa.BigInteger(), nullable=False),
        sa.Column('kind', sa.String(length=5), nullable=False),
        sa.Column('old_price_cents', sa.BigInteger(), nullable=True),
        sa.Column('price_cents', sa.BigInteger(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('mailed_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('new', 'drop')", name=op.f('ck_saved_search_hits_kind_valid')),
        sa.ForeignKeyConstraint(['saved_search_id'], ['saved_searches.id'],
                                name=op.f('fk_saved_search_hits_saved_search_id_saved_searches'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['car_id'], ['cars.id'], name=op.f('fk_saved_search_hits_car_id_cars'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('saved_search_id', 'car_id', name=op.f('pk_saved_search_hits')),
    )
    op.create_index('ix_saved_search_hits_unmailed', 'saved_search_hits', ['saved_search_id'],
                    postgresql_where=sa.text('mailed_at IS NULL'))
    op.create_index('ix_saved_search_hits_car_id', 'saved_search_hits', ['car_id'])
    op.create_table(
        'alert_runs',
        sa.Column('id', sa.SmallInteger(), nullable=False),
        sa.Column('checked_until', sa.DateTime(timezone=True), nullable=False),
        sa.Column('digest_sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_runs')),
    )
    op.create_index('ix_car_price_history_changed', 'car_price_history', ['changed_at'])


def downgrade() -> None:
    op.drop_index('ix_car_price_history_changed', table_name='car_price_history')
    op.drop_table('alert_runs')
    op.drop_index('ix_saved_search_hits_car_id', table_name='saved_search_hits')
    op.drop_index('ix_saved_search_hits_unmailed', table_name='saved_search_hits')
    op.drop_table('saved_search_hits')
    op.drop_index('ix_saved_searches_active', table_name='saved_searches')
    op.drop_index('uq_saved_searches_email_query', table_name='saved_searches')
    op.drop_table('saved_searches')
