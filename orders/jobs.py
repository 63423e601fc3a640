"""Long launches of the orders app, recorded as `core.Job` rows (docs/decisions/0014)."""

from __future__ import annotations

from core.outbox import register_job

IMPORT_ESTABLISHMENTS = "import_establishments"


@register_job(IMPORT_ESTABLISHMENTS)
def run_import_establishments(job) -> dict:
    """The establishments CSV kept in the job: good rows imported, bad rows reported by line."""
    from orders.importing import import_establishments

    report = import_establishments(
        bytes(job.payload or b""), actor=job.requested_by or "import_establishments"
    )
    return {"created": report.created, "updated": report.updated, "errors": report.errors}
