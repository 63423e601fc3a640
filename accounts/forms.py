from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from accounts.receivers import client_ip
from accounts.services import login_throttle_check
from core.errors import TooManyAttempts


class ThrottledAuthenticationForm(AuthenticationForm):
    """The browser login: the same throttling as the API token endpoint."""

    def clean(self):
        try:
            login_throttle_check(
                username=self.data.get("username", ""), ip_address=client_ip(self.request)
            )
        except TooManyAttempts as exc:
            raise ValidationError(exc.errors[0].detail, code="throttled") from exc
        return super().clean()
