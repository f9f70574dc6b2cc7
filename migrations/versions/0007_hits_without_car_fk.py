"""Saved-search hits without the foreign key to cars: the alert job inserts a day's hits in one statement (over a
million at 100,000 cars and 10,000 searches), and the per-row foreign-key check and the car_id index it needed for
the cascade were about a third of that insert. Cars are never deleted by Kroi (they are soft-deleted), and every
reader of hits joins cars, so a hit of a car removed by hand is simply not shown.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 14:30:00
"""
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_constraint('fk_saved_search_hits_car_id_cars', 'saved_search_hits', type_='foreignkey')
    op.drop_index('ix_saved_search_hits_car_id', table_name='saved_search_hits')


def downgrade() -> None:
    op.execute("DELETE FROM saved_search_hits h WHERE NOT EXISTS (SELECT 1 FROM cars WHERE cars.id = h.car_id)")
    op.create_index('ix_saved_search_hits_car_id', 'saved_search_hits', ['car_id'])
    op.create_foreign_key('fk_saved_search_hits_car_id_cars', 'saved_search_hits', 'cars', ['car_id'], ['id'],
                          ondelete='CASCADE')
