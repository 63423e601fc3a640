"""The append-only, hash-chained audit trail. See docs/decisions/0003-audit-trail.md.

Every service that writes calls `audit_record` (or `audit_record_many` for a sweep) inside its
transaction. Entries are chained: each stores the previous entry's hash and its own
`sha256(prev_hash + canonical JSON of its content)`. Writers serialise on one lock (a PostgreSQL
advisory transaction lock; SQLite serialises writers by itself), so `seq` is gapless.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.utils import timezone

from core.models import AuditEntry

GENESIS_HASH = "0" * 64
AUDIT_LOCK_KEY = 0x534F4E53  # "SONS"
SYSTEM = "système"
SUPERUSER_MARK = "(superutilisateur)"
ADMIN_CHANNEL = "admin"

_channel: ContextVar[str] = ContextVar("audit_channel", default="")


@dataclass(frozen=True)
class ObjectRef:
    """What an entry is about, when it is not a model instance at hand."""

    object_type: str
    object_id: str
    object_repr: str = ""


def _json_safe(value: Any) -> Any:
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def _format_at(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_content(entry: AuditEntry) -> str:
    content = {
        "seq": entry.seq,
        "id": str(entry.id),
        "at": _format_at(entry.at),
        "actor_id": str(entry.actor_id) if entry.actor_id else None,
        "actor_repr": entry.actor_repr,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "object_repr": entry.object_repr,
        "from_state": entry.from_state,
        "to_state": entry.to_state,
        "reason": entry.reason,
        "changes": entry.changes,
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def compute_hash(prev_hash: str, entry: AuditEntry) -> str:
    return hashlib.sha256((prev_hash + canonical_content(entry)).encode()).hexdigest()


def _object_ref(obj: models.Model | ObjectRef) -> ObjectRef:
    if isinstance(obj, ObjectRef):
        return obj
    return ObjectRef(obj._meta.label_lower, str(obj.pk), str(obj)[:300])


def _actor_fields(actor: Any) -> tuple[Any, str]:
    """`actor` is a user, or a string naming a system actor (a sweep, a command).

    A Django superuser is named as such (`"admin.ans (superutilisateur)"`): whoever reads the
    trail sees that the write did not depend on a role. The label is stored, hashed and compared
    as is, so it is French whatever the request's language."""
    if actor is None or isinstance(actor, str):
        return None, f"{SYSTEM}: {actor}" if actor else SYSTEM
    if getattr(actor, "is_authenticated", False):
        name = actor.get_username()
        if getattr(actor, "is_superuser", False):
            name = f"{name} {SUPERUSER_MARK}"
        return actor.pk, name
    return None, "anonyme"


@contextmanager
def audit_channel(name: str) -> Iterator[None]:
    """Every entry written inside this block says it came through `name` (`ADMIN_CHANNEL`: the
    Django admin): its `reason` is `name`, or `"name — reason"` when the service gave one."""
    token = _channel.set(name)
    try:
        yield
    finally:
        _channel.reset(token)


def _reason(reason: str) -> str:
    channel = _channel.get()
    if not channel or reason == channel or reason.startswith(f"{channel} — "):
        return reason or ""
    return f"{channel} — {reason}" if reason else channel


def _lock_chain() -> tuple[int, str]:
    if not connection.in_atomic_block:
        raise RuntimeError("audit entries are written inside the service's transaction")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [AUDIT_LOCK_KEY])
    last = AuditEntry.objects.order_by("-seq").values_list("seq", "hash").first()
    return last if last else (0, GENESIS_HASH)


def audit_record(
    *,
    actor: Any,
    action: str,
    obj: models.Model | ObjectRef,
    from_state: str = "",
    to_state: str = "",
    reason: str = "",
    changes: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> AuditEntry:
    """Append one entry. Call it inside the service's transaction, after the write."""
    return audit_record_many(
        actor=actor,
        action=action,
        objects=[obj],
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        changes=changes,
        at=at,
    )[0]


def audit_record_many(
    *,
    actor: Any,
    action: str,
    objects: Sequence[models.Model | ObjectRef],
    from_state: str = "",
    to_state: str = "",
    reason: str = "",
    changes: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> list[AuditEntry]:
    """Append one entry per object (a sweep's transitions), in one insert."""
    if not objects:
        return []
    seq, prev_hash = _lock_chain()
    actor_id, actor_repr = _actor_fields(actor)
    reason = _reason(reason or "")
    at = at or timezone.now()
    safe_changes = _json_safe(changes or {})
    entries = []
    for obj in objects:
        ref = _object_ref(obj)
        seq += 1
        entry = AuditEntry(
            seq=seq,
            at=at,
            actor_id=actor_id,
            actor_repr=actor_repr[:200],
            action=action,
            object_type=ref.object_type,
            object_id=ref.object_id,
            object_repr=(ref.object_repr or "")[:300],  # bounded column, free text
            from_state=from_state or "",
            to_state=to_state or "",
            reason=reason,
            changes=safe_changes,
            prev_hash=prev_hash,
        )
        entry.hash = compute_hash(prev_hash, entry)
        prev_hash = entry.hash
        entries.append(entry)
    AuditEntry.objects.bulk_create(entries, batch_size=1000)
    return entries


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The JSON-safe values of `fields` (foreign keys by id), to diff before/after a write."""
    values = {}
    for name in fields:
        field = instance._meta.get_field(name)
        if field.many_to_many:
            values[name] = (
                sorted(str(pk) for pk in getattr(instance, name).values_list("pk", flat=True))
                if instance.pk
                else []
            )
        else:
            values[name] = getattr(instance, field.attname)
    return _json_safe(values)


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """`{field: [before, after]}` for the fields whose value changed."""
    return {k: [before.get(k), after.get(k)] for k in after if before.get(k) != after.get(k)}


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    broken_seq: int | None = None
    broken_id: str | None = None
    problem: str = ""


def audit_verify(chunk_size: int = 2000) -> VerifyResult:
    """Walk the chain in order; report the first entry whose link or content does not hold."""
    expected_seq = 1
    prev_hash = GENESIS_HASH
    checked = 0
    with transaction.atomic():
        for entry in AuditEntry.objects.order_by("seq").iterator(chunk_size=chunk_size):
            if entry.seq != expected_seq:
                return VerifyResult(
                    False,
                    checked,
                    entry.seq,
                    str(entry.id),
                    f"entrée(s) manquante(s) : attendu n°{expected_seq}, trouvé n°{entry.seq}",
                )
            if entry.prev_hash != prev_hash:
                return VerifyResult(
                    False,
                    checked,
                    entry.seq,
                    str(entry.id),
                    "le lien vers l'entrée précédente ne correspond pas",
                )
            if compute_hash(prev_hash, entry) != entry.hash:
                return VerifyResult(
                    False,
                    checked,
                    entry.seq,
                    str(entry.id),
                    "le contenu de l'entrée a été modifié après son écriture",
                )
            prev_hash = entry.hash
            expected_seq += 1
            checked += 1
    return VerifyResult(True, checked)
