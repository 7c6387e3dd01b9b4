"""Incident search without reading every incident, on PostgreSQL: a trigram index (pg_trgm)
over the text the search looks in (number, title, location, narrative, as one upper-cased
text). `services.incidents.search_document()` builds the same expression for the query, so
PostgreSQL answers its `icontains` (`UPPER(...) LIKE UPPER('%word%')`) from this index.

PostgreSQL only: on SQLite these operations do nothing and the search is a plain LIKE over
the same text. `pg_trgm` is a trusted extension (PostgreSQL 13+): the database's owner may
create it without being a superuser.
"""

from django.db import migrations

# The expression is Django's own compilation of `search_document()` (Concat of number, title,
# location_text and narrative, with spaces between, NULL as ''), frozen here as it was when
# the index was made: PostgreSQL uses an expression index only for the same expression.
DOCUMENT = (
    """COALESCE("number", '') || COALESCE((COALESCE(' ', '') || COALESCE((COALESCE("title", '')"""
    """ || COALESCE((COALESCE(' ', '') || COALESCE((COALESCE("location_text", '') ||"""
    """ COALESCE((COALESCE(' ', '') || COALESCE("narrative", '')), '')), '')), '')), '')), '')"""
)
CREATE = (
    "CREATE INDEX incident_search_trgm ON facility_log_incident"
    f" USING gin ((UPPER(({DOCUMENT}))) gin_trgm_ops)"
)
DROP = "DROP INDEX IF EXISTS incident_search_trgm"


def add_search_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(CREATE)


def remove_search_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("facility_log", "0010_lists_indexes"),
    ]

    operations = [
        migrations.RunPython(add_search_index, remove_search_index, elidable=False),
    ]
