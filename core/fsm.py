"""The one refusal of a transition the state machine does not allow: 409 TRANSITION_NOT_ALLOWED."""

from django.utils.translation import gettext as _
from django_fsm import can_proceed

from core.errors import Conflict


def require_transition(obj, method: str) -> None:
    """Raise 409 unless `obj.<method>` (a django-fsm transition) can run from the current state."""
    if not can_proceed(getattr(obj, method)):
        raise Conflict(
            "TRANSITION_NOT_ALLOWED",
            _("Action « %(action)s » impossible dans l'état « %(state)s ».")
            % {"action": method.replace("_", "-"), "state": obj.get_state_display()},
        )
