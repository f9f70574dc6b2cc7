"""cars.colour_group: the colour group (white, black, grey, …) that the free-text colour's first word names,
a stored generated column, so /cars can filter and count by colour (issue 8, more filters).

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-02 09:00:00
"""
from alembic import op


COLOUR_GROUP_SQL = (
    "CASE "
    "WHEN lower(colour) ~ '^(valkoi|helmenvalk|white|pearl)' THEN 'white' "
    "WHEN lower(colour) ~ '^(musta|black)' THEN 'black' "
    "WHEN lower(colour) ~ '^(harmaa|tummanharmaa|vaaleanharmaa|grafiitti|grey|gray)' THEN 'grey' "
    "WHEN lower(colour) ~ '^(hopea|silver)' THEN 'silver' "
    "WHEN lower(colour) ~ '^(sini|tummansini|vaaleansini|blue)' THEN 'blue' "
    "WHEN lower(colour) ~ '^(puna|tummanpuna|viininpuna|red)' THEN 'red' "
    "WHEN lower(colour) ~ '^(vihre|tummanvihre|green)' THEN 'green' "
    "WHEN lower(colour) ~ '^(rusk|brown)' THEN 'brown' "
    "WHEN lower(colour) ~ '^(beige|hiekka)' THEN 'beige' "
    "WHEN lower(colour) ~ '^(kelta|yellow)' THEN 'yellow' "
    "WHEN lower(colour) ~ '^(orans|orange)' THEN 'orange' ELSE 'other' END"
)

revision = '0005'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Hand-written: autogenerate misses Computed expressions (FIELD-NOTES). The same expression as
    # kroi.db.models.inventory.COLOUR_GROUP_SQL (a test compares them); changing it needs a migration of its own.
    op.execute(f"ALTER TABLE cars ADD COLUMN colour_group varchar(12) GENERATED ALWAYS AS ({COLOUR_GROUP_SQL}) STORED")


def downgrade() -> None:
    op.execute("ALTER TABLE cars DROP COLUMN colour_group")
