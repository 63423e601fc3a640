"""`manage.py load_demo`: the demo `make run` loads on every start.

`load_programme` (sons app) is written concurrently: where it exists it runs for real; where it
does not yet, the call is recorded by a stub so these tests do not depend on it.
"""

from io import StringIO

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.management import call_command, get_commands
from django.core.management.base import CommandError

from accounts.models import Role, User
from core import identifiers
from core.audit import audit_verify
from core.models import AuditEntry
from vendors.management.commands import load_demo_vendors as load_demo
from vendors.models import Solution, SolutionVersion, Vendor

HAS_LOAD_PROGRAMME = "load_programme" in get_commands()
CATEGORIES = {"DPI", "RI", "PFI", "LGC", "SIR", "SGL", "LGO"}


@pytest.fixture
def programme_calls(monkeypatch):
    """Each call load_demo makes to another command, with the vendor count at that moment."""
    calls = []
    real_call_command = load_demo.call_command

    def recording(name, *args, **kwargs):
        calls.append((name, Vendor.objects.count()))
        if HAS_LOAD_PROGRAMME:
            return real_call_command(name, *args, **kwargs)
        return None

    monkeypatch.setattr(load_demo, "call_command", recording)
    return calls


def _run() -> str:
    out = StringIO()
    call_command("load_demo_vendors", stdout=out, stderr=StringIO())
    return out.getvalue()


def _counts() -> dict[str, int]:
    counts = {
        "vendors": Vendor.objects.count(),
        "solutions": Solution.objects.count(),
        "versions": SolutionVersion.objects.count(),
        "users": User.objects.count(),
        "audit": AuditEntry.objects.count(),
    }
    if HAS_LOAD_PROGRAMME:
        from sons.models import Requirement, RequirementSet, Scheme, Wave

        counts |= {
            "waves": Wave.objects.count(),
            "schemes": Scheme.objects.count(),
            "requirement_sets": RequirementSet.objects.count(),
            "requirements": Requirement.objects.count(),
        }
    return counts


def test_load_programme_is_called_first(db, programme_calls):
    _run()
    assert programme_calls == [("load_programme", 0)]


def test_demo_vendors_have_valid_identifiers(db, programme_calls):
    _run()
    vendors = list(Vendor.objects.all())
    assert len(vendors) == len(load_demo.DEMO_VENDORS) >= 5
    for vendor in vendors:
        assert identifiers.validate_siren(vendor.siren) == vendor.siren
        assert identifiers.validate_siret(vendor.siret) == vendor.siret
        identifiers.validate_siret_of_siren(vendor.siret, vendor.siren)
        assert identifiers.validate_iban(vendor.iban) == vendor.iban
        assert identifiers.validate_nie(vendor.nie) == vendor.nie
        assert vendor.enrolled_at is None


def test_demo_covers_every_software_category_with_versions(db, programme_calls):
    _run()
    assert set(Solution.objects.values_list("category__code", flat=True)) >= CATEGORIES
    for solution in Solution.objects.all():
        assert solution.versions.count() >= 2, solution


def test_demo_accounts_one_per_role_with_the_documented_password(db, programme_calls):
    output = _run()
    password = load_demo.DEMO_PASSWORD
    users = {u.username: u for u in User.objects.select_related("vendor")}
    expected_roles = {
        "admin.ans": Role.ANS_ADMIN,
        "instructeur": Role.REVIEWER,
        "instructeur2": Role.REVIEWER,
        "agent.asp": Role.PAYMENT_OFFICER,
        "editeur": Role.VENDOR,
        "editeur2": Role.VENDOR,
        "etablissement": Role.ESTABLISHMENT,
    }
    for username, role in expected_roles.items():
        user = users[username]
        assert user.role == role
        assert user.check_password(password), username
        assert username in output
    assert {u.role for u in users.values()} == set(Role.values)
    admin = users["admin.ans"]
    assert admin.is_staff
    assert admin.is_superuser
    assert not any(u.is_staff for name, u in users.items() if name != "admin.ans")
    first_vendor = Vendor.objects.get(siren=load_demo.DEMO_VENDORS[0].siren)
    assert users["editeur"].vendor == first_vendor
    assert users["editeur2"].vendor not in (None, first_vendor)
    assert users["etablissement"].signatory
    assert password in output
    validate_password(password, users["editeur"])  # passes the configured validators


def test_demo_writes_go_through_the_services_and_are_audited(db, programme_calls):
    _run()
    vendor_entries = AuditEntry.objects.filter(action="vendor.create")
    assert vendor_entries.count() == Vendor.objects.count()
    assert {e.actor_repr for e in vendor_entries} == {"système: load_demo"}
    assert AuditEntry.objects.filter(action="solution_version.create").count() == (
        SolutionVersion.objects.count()
    )
    assert AuditEntry.objects.filter(action="user.create").count() == User.objects.count()
    for entry in vendor_entries:
        assert entry.changes["iban"][1].startswith("****")
    assert audit_verify().ok


def test_load_demo_is_idempotent(db, programme_calls):
    _run()
    first = _counts()
    output = _run()
    assert _counts() == first
    assert "0 éditeur(s), 0 logiciel(s), 0 version(s), 0 compte(s) créé(s)" in output
    assert "admin.ans" in output


def test_load_demo_never_changes_what_exists(db, programme_calls):
    _run()
    editeur = User.objects.get(username="editeur")
    editeur.set_password("un-autre-mot-de-passe-2026")
    editeur.save()
    Vendor.objects.filter(siren=load_demo.DEMO_VENDORS[0].siren).update(name="Renommé")
    _run()
    editeur.refresh_from_db()
    assert editeur.check_password("un-autre-mot-de-passe-2026")
    assert Vendor.objects.filter(name="Renommé").count() == 1


def test_missing_load_programme_is_a_warning_not_a_failure(db, monkeypatch):
    def unknown(name, *args, **kwargs):
        raise CommandError(f"Unknown command: {name!r}")

    monkeypatch.setattr(load_demo, "call_command", unknown)
    monkeypatch.setattr(load_demo, "get_commands", dict)
    err = StringIO()
    call_command("load_demo_vendors", stdout=StringIO(), stderr=err)
    assert "load_programme" in err.getvalue()
    assert Vendor.objects.count() == len(load_demo.DEMO_VENDORS)


def test_a_failing_load_programme_stops_the_demo(db, monkeypatch):
    def failing(name, *args, **kwargs):
        raise CommandError("programme invalide")

    monkeypatch.setattr(load_demo, "call_command", failing)
    monkeypatch.setattr(load_demo, "get_commands", lambda: {"load_programme": "sons"})
    with pytest.raises(CommandError, match="programme invalide"):
        call_command("load_demo_vendors", stdout=StringIO(), stderr=StringIO())
    assert not Vendor.objects.exists()


@pytest.mark.skipif(not HAS_LOAD_PROGRAMME, reason="load_programme (sons) not written yet")
def test_load_demo_with_the_real_programme_is_idempotent(db):
    _run()
    first = _counts()
    assert first["schemes"] > 0
    _run()
    assert _counts() == first
