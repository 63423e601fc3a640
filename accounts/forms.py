from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from accounts.receivers import client_ip
from accounts.services import login_attempt
from core.errors import TooManyAttempts


class ThrottledAuthenticationForm(AuthenticationForm):
    """The browser login: the same throttling as the API token endpoint."""

    def clean(self):
        username = self.cleaned_data.get("username")
        if not (username and self.cleaned_data.get("password")):
            return super().clean()  # no password checked: nothing to count
        try:
            login_attempt(
                username=username,
                ip_address=client_ip(self.request),
                channel="web",
                check=self._checked_user,
            )
        except TooManyAttempts as exc:
            raise ValidationError(exc.errors[0].detail, code="throttled") from exc
        return self.cleaned_data

    def _checked_user(self):
        super().clean()  # raises on a wrong password or an inactive account
        return self.get_user()
