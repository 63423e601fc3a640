from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver

from accounts.services import login_failure_record


def client_ip(request) -> str | None:
    if request is None:
        return None
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
