"""Long launches of the sons app, recorded as `core.Job` rows (docs/decisions/0014)."""

from __future__ import annotations

from core.outbox import register_job

ELIGIBLE_BASE_IMPORT = "eligible_base_import"


@register_job(ELIGIBLE_BASE_IMPORT)
def run_eligible_base_import(job) -> dict:
    """A scheme's eligible base CSV kept in the job, upserted by the service (which checks that
    the requester may, and audits)."""
    from sons import services
    from sons.models import Scheme

    report = services.eligible_base_import(
        actor=job.requested_by,
        scheme=Scheme.objects.get(pk=job.params["scheme"]),
        data=bytes(job.payload or b""),
        source=job.params.get("source", ""),
    )
    return report.as_dict()
