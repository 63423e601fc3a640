import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from core.audit import GENESIS_HASH, audit_record, audit_record_many, audit_verify
from core.models import AuditEntry
from sons.models import Category


def _write(n: int, actor="test"):
    category = Category.objects.get(code="DPI")
    with transaction.atomic():
        for i in range(n):
            audit_record(
                actor=actor,
                action="demo.touch",
                obj=category,
                reason=f"motif {i}",
                changes={"name": ["a", f"b{i}"]},
            )


@pytest.mark.django_db
def test_entries_are_chained_and_gapless():
    _write(3)
    entries = list(AuditEntry.objects.order_by("seq"))
    assert [e.seq for e in entries] == [1, 2, 3]
    assert entries[0].prev_hash == GENESIS_HASH
    assert entries[1].prev_hash == entries[0].hash
    assert entries[2].prev_hash == entries[1].hash
    assert entries[0].actor_repr == "système: test"
    assert audit_verify().ok


@pytest.mark.django_db(transaction=True)
def test_audit_record_refuses_to_run_outside_a_transaction():
    with pytest.raises(RuntimeError):
        audit_record(actor="test", action="demo.touch", obj=Category.objects.first())


@pytest.mark.django_db
def test_audit_entries_cannot_be_updated_or_deleted_through_the_orm():
    _write(1)
    entry = AuditEntry.objects.get()
    entry.reason = "autre"
    with pytest.raises(TypeError):
        entry.save()
    with pytest.raises(TypeError):
        entry.delete()
    with pytest.raises(TypeError):
        AuditEntry.objects.all().delete()


@pytest.mark.django_db
def test_verify_audit_names_the_row_altered_directly_in_the_database(capsys):
    _write(5)
    call_command("verify_audit")
    assert "5 entrée(s)" in capsys.readouterr().out
    target = AuditEntry.objects.get(seq=3)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {AuditEntry._meta.db_table} SET reason = %s WHERE id = %s",
            ["falsifié", target.id.hex if connection.vendor == "sqlite" else str(target.id)],
        )
    result = audit_verify()
    assert not result.ok
    assert result.broken_seq == 3
    with pytest.raises(CommandError, match="n°3"):
        call_command("verify_audit")


@pytest.mark.django_db
def test_verify_audit_detects_a_deleted_row():
    _write(4)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {AuditEntry._meta.db_table} WHERE seq = 2")
    result = audit_verify()
    assert (result.ok, result.broken_seq) == (False, 3)
    assert "manquante" in result.problem


@pytest.mark.django_db
def test_bulk_entries_continue_the_chain():
    _write(1)
    categories = list(Category.objects.all())
    with transaction.atomic():
        entries = audit_record_many(
            actor="sweep", action="demo.sweep", objects=categories, from_state="a", to_state="b"
        )
    assert [e.seq for e in entries] == list(range(2, 2 + len(categories)))
    assert audit_verify().ok
