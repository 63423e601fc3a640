"""An index for the public catalogue's page query (docs/benchmarks.md, "Public catalogue").

`GET /api/v1/catalogue/` cuts its page with `SELECT id, COUNT(*) OVER () ... WHERE state =
'active' ORDER BY reference LIMIT ... OFFSET ...` (plus the filters). This partial, covering
index answers it by an index-only scan, in order, with the columns the filters join on.

PostgreSQL only (INCLUDE), and kept out of the model state on purpose: it is a tuning of one
query, written here as SQL so that `referencing_app/models.py` does not have to carry it.
"""

from django.db import migrations

INDEX = "referencing_catalogue_idx"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = schema_editor.quote_name(apps.get_model("referencing", "Referencing")._meta.db_table)
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON {table} (reference) "
        "INCLUDE (id, scheme_id, vendor_id, solution_version_id) WHERE state = 'active'"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("referencing", "0002_one_referencing_per_version"),
    ]

    operations = [
        migrations.RunPython(create_index, drop_index, elidable=False),
    ]
