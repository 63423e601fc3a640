from celery import shared_task


@shared_task(
    name="payments.tasks.check_eligibility", acks_late=True, time_limit=3600, soft_time_limit=3500
)
def check_eligibility(
    scheme_codes: list[str] | None = None, triggered_by: str = "beat"
) -> list[dict]:
    """The nightly (and on-demand) batch: every order of each scheme, set-based, idempotent."""
    from payments.services import eligibility_check_schemes

    return [
        r.__dict__
        for r in eligibility_check_schemes(scheme_codes=scheme_codes, triggered_by=triggered_by)
    ]
