"""Long launches of the payments app, recorded as `core.Job` rows and run by a worker
(docs/decisions/0014)."""

from __future__ import annotations

from core.outbox import register_job

ELIGIBILITY_CHECK = "eligibility_check"


@register_job(ELIGIBILITY_CHECK)
def run_eligibility_check(job) -> dict:
    """The eligibility batch over `params["schemes"]` (all when empty)."""
    from payments.services import eligibility_check_schemes

    results = eligibility_check_schemes(
        scheme_codes=job.params.get("schemes") or None,
        triggered_by=job.params.get("triggered_by") or "système",
    )
    return {"runs": [r.__dict__ for r in results]}
