from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver

from accounts.services import login_failure_record


def client_ip(request) -> str | None:
    """The client's address: REMOTE_ADDR, or the address our trusted proxies saw (the
    TRUSTED_PROXY_COUNT-th from the right of X-Forwarded-For)."""
    if request is None:
        return None
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = [
        a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()
    ]
    if proxies and len(forwarded) >= proxies:
        return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR") or None


@receiver(user_login_failed, dispatch_uid="accounts.login_failed")
def on_login_failed(sender, credentials, request=None, **kwargs):
    """Security logging: every failed login, API or browser, is recorded and counted."""
    channel = "api" if request is not None and request.path.startswith("/api/") else "web"
    login_failure_record(
        username=str(credentials.get("username", "")),
        ip_address=client_ip(request),
        channel=channel,
    )
