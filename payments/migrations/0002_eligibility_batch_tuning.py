"""Storage and indexes for the eligibility batch on a national dataset
(docs/benchmarks.md, "Benchmarks at national scale").

1. `payments_eligibilityresult` pages are left half empty (fillfactor 50). The batch
   (`payments.eligibility.run_scheme_batch`) rewrites every order's row each night: same keys,
   usually the same reasons, a new `checked_at`. With room on the page the new version stays
   there and no index changes (a HOT update: none of the four indexes is touched); with full
   pages (the default) every rewrite is a new row elsewhere plus four index entries. On a million
   orders the nightly batch went from about 50 s to about 20 s.
2. `eligibility_establishment_identifier_idx` on `orders_establishment (id) INCLUDE (finess,
   rpps)`: the batch looks up each order's establishment for its identifier in the eligible
   base; the covering index answers by an index-only scan.
3. `eligibility_payment_request_flags_idx` on `payments_paymentrequest (order_id) INCLUDE (kind,
   state)` for live requests: the batch reads each order's live requests (kind and state) in
   one index-only probe.

PostgreSQL only (storage parameter, INCLUDE), and kept out of the model state on purpose: a
tuning of one batch, written here as SQL so that the models do not carry it. Existing pages of
the results table keep their fill until rewritten (VACUUM FULL) or reused; new ones follow.
"""

from django.db import migrations

FILLFACTOR = 50
INDEXES = {
    "eligibility_establishment_identifier_idx": (
        ("orders", "Establishment"),
        "(id) INCLUDE (finess, rpps)",
    ),
    "eligibility_payment_request_flags_idx": (
        ("payments", "PaymentRequest"),
        "(order_id) INCLUDE (kind, state) WHERE state IN ('submitted', 'approved', 'paid')",
    ),
}


def _table(apps, schema_editor, app_label, model):
    return schema_editor.quote_name(apps.get_model(app_label, model)._meta.db_table)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    results = _table(apps, schema_editor, "payments", "EligibilityResult")
    schema_editor.execute(f"ALTER TABLE {results} SET (fillfactor = {FILLFACTOR})")
    for name, ((app_label, model), definition) in INDEXES.items():
        table = _table(apps, schema_editor, app_label, model)
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} {definition}")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    results = _table(apps, schema_editor, "payments", "EligibilityResult")
    schema_editor.execute(f"ALTER TABLE {results} RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0001_initial"),
        ("orders", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards, elidable=False),
    ]
