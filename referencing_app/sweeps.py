"""Periodic sweeps of the referencing app (registered in core.sweeps, run by Celery beat and by
`python manage.py run_sweeps`). Each finds what is due with one query, moves it with one UPDATE
guarded by the same state condition, and writes one audit entry per object moved."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from accounts.models import User
from core.audit import ObjectRef, audit_record_many
from core.locks import job_lock
from core.notifications import notify
from core.reminders import due_soon, remind
from core.sweeps import isolated, register
from referencing_app.models import Dossier, DossierState, Referencing, ReferencingState


def _members_by_vendor(vendor_ids) -> dict:
    members: dict = {}
    for user in User.objects.filter(vendor_id__in=set(vendor_ids), is_active=True):
        members.setdefault(user.vendor_id, []).append(user)
    return members


@register("dossier_abandon")
def sweep_abandon_overdue_dossiers(now: dt.datetime | None = None) -> int:
    """`changes_requested` past the correction delay → `abandoned`."""
    now = now or timezone.now()
    with job_lock("sweep:dossier_abandon") as acquired:
        if not acquired:
            return 0
        due = Dossier.objects.filter(state=DossierState.CHANGES_REQUESTED, changes_due_at__lt=now)
        rows = list(due.values_list("id", "vendor_id"))

        def abandon(rows):
            moved = Dossier.objects.filter(
                pk__in=[pk for pk, _ in rows], state=DossierState.CHANGES_REQUESTED
            ).update(state=DossierState.ABANDONED, ended_at=now, updated_at=now)
            audit_record_many(
                actor="sweep:dossier_abandon",
                action="dossier.abandon",
                objects=[ObjectRef("referencing.dossier", str(pk)) for pk, _ in rows],
                from_state=DossierState.CHANGES_REQUESTED,
                to_state=DossierState.ABANDONED,
                reason="Délai de correction dépassé",
                at=now,
            )
            members = _members_by_vendor(v for _, v in rows)
            from referencing_app.services import dossier_ended_hooks

            for dossier in Dossier.objects.filter(pk__in=[pk for pk, _ in rows]).select_related(
                "scheme", "solution_version__solution"
            ):
                notify(
                    recipients=members.get(dossier.vendor_id, []),
                    event="dossier_abandoned",
                    obj=dossier,
                )
                dossier_ended_hooks(dossier, "sweep:dossier_abandon")
            return moved

        return isolated(rows, abandon, key=lambda row: row[0])


@register("referencing_expire")
def sweep_expire_referencings(now: dt.datetime | None = None) -> int:
    """`active` past `valid_until` → `expired`."""
    now = now or timezone.now()
    with job_lock("sweep:referencing_expire") as acquired:
        if not acquired:
            return 0
        rows = list(
            Referencing.objects.filter(
                state=ReferencingState.ACTIVE, valid_until__lt=now
            ).values_list("id", "reference", "vendor_id")
        )

        def expire(rows):
            moved = Referencing.objects.filter(
                pk__in=[pk for pk, _, _ in rows], state=ReferencingState.ACTIVE
            ).update(state=ReferencingState.EXPIRED, updated_at=now)
            audit_record_many(
                actor="sweep:referencing_expire",
                action="referencing.expire",
                objects=[ObjectRef("referencing.referencing", str(pk), ref) for pk, ref, _ in rows],
                from_state=ReferencingState.ACTIVE,
                to_state=ReferencingState.EXPIRED,
                reason="Fin de validité",
                at=now,
            )
            members = _members_by_vendor(v for _, _, v in rows)
            for referencing in Referencing.objects.filter(
                pk__in=[pk for pk, _, _ in rows]
            ).select_related("scheme"):
                notify(
                    recipients=members.get(referencing.vendor_id, []),
                    event="referencing_expired",
                    obj=referencing,
                )
            return moved

        return isolated(rows, expire, key=lambda row: row[0])


def _remind(now: dt.datetime, queryset, due_field: str, event: str, kind: str) -> int:
    """Remind the vendor's members 7 and 1 day(s) before `due_field`."""
    candidates = list(
        due_soon(queryset, due_field, now).select_related("scheme", "solution_version__solution")
    )
    members = _members_by_vendor(d.vendor_id for d in candidates)
    return remind(
        now=now,
        objects=candidates,
        kind=kind,
        event=event,
        recipients_of=lambda dossier: members.get(dossier.vendor_id, []),
    )


@register("dossier_reminders")
def sweep_dossier_reminders(now: dt.datetime | None = None) -> int:
    """7 days and 1 day before: a correction due, and a submission window closing on a draft."""
    now = now or timezone.now()
    with job_lock("sweep:dossier_reminders") as acquired:
        if not acquired:
            return 0
        sent = _remind(
            now,
            Dossier.objects.filter(state=DossierState.CHANGES_REQUESTED),
            "changes_due_at",
            "reminder_changes_due",
            "changes_due",
        )
        sent += _remind(
            now,
            Dossier.objects.filter(state=DossierState.DRAFT),
            "scheme__submission_closes",
            "reminder_submission_closes",
            "submission_closes",
        )
        return sent
