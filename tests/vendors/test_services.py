"""Services of the vendors app: rights, normalisation, uniqueness, and one audit entry each."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import Role
from core.audit import audit_verify
from core.errors import Conflict, InvalidInput, NotAllowed
from core.models import AuditEntry
from sons.models import Category
from tests.factories.accounts import UserFactory
from tests.factories.vendors import (
    VALID_IBAN,
    SolutionFactory,
    SolutionVersionFactory,
    VendorFactory,
    valid_siren,
    valid_siret,
    vendor_member,
)
from vendors import services
from vendors.models import Solution, SolutionVersion, Vendor

SIREN = "732829320"
SIRET = "73282932000074"


@pytest.fixture
def admin(db):
    return UserFactory(role=Role.ANS_ADMIN)


def _entries(action: str, obj) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action, object_id=str(obj.pk)))


def _errors(exc_info) -> dict[str, list[str]]:
    """{field: [codes]} of a Django ValidationError raised by a service."""
    return {field: [e.code for e in errors] for field, errors in exc_info.value.error_dict.items()}


# --- mask ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("iban", "masked"),
    [(VALID_IBAN, "****0189"), ("", ""), (None, ""), ("DE89370400440532013000", "****3000")],
)
def test_mask_iban_keeps_only_the_last_four_characters(iban, masked):
    assert services.mask_iban(iban) == masked


# --- vendor_create -------------------------------------------------------------------------------
def test_vendor_create_normalises_identifiers_and_audits_once_with_the_iban_masked(admin):
    vendor = services.vendor_create(
        actor=admin,
        name="  Hospitalia Logiciels  ",
        siren="732 829 320",
        siret="732 829 320 00074",
        nie="ed-0142",
        iban="FR76 3000 6000 0112 3456 7890 189",
    )
    vendor.refresh_from_db()
    assert (vendor.name, vendor.siren, vendor.siret, vendor.nie, vendor.iban) == (
        "Hospitalia Logiciels",
        SIREN,
        SIRET,
        "ED0142",
        VALID_IBAN,
    )
    [entry] = AuditEntry.objects.all()
    assert (entry.action, entry.object_id, entry.actor_id) == (
        "vendor.create",
        str(vendor.pk),
        admin.pk,
    )
    assert entry.changes["siren"] == [None, SIREN]
    assert entry.changes["iban"] == [None, "****0189"]
    assert VALID_IBAN not in str(entry.changes)
    assert "0006000011234567890" not in str(entry.changes)
    assert audit_verify().ok


def test_vendor_create_without_nie_nor_iban(admin):
    vendor = services.vendor_create(actor=admin, name="Sans IBAN", siren=SIREN, siret=SIRET)
    assert (vendor.nie, vendor.iban) == ("", "")
    assert _entries("vendor.create", vendor)[0].changes["iban"] == [None, ""]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"siren": "732829321"}, {"siren": ["invalid_siren"]}),
        ({"siret": "73282932000075"}, {"siret": ["invalid_siret"]}),
        ({"siret": "55208131766522"}, {"siret": ["siret_siren_mismatch"]}),
        ({"nie": "X"}, {"nie": ["invalid_nie"]}),
        ({"iban": "FR7630006000011234567890188"}, {"iban": ["invalid_iban"]}),
        ({"name": "   "}, {"name": ["blank"]}),
        ({"siren": "٧٣٢٨٢٩٣٢٠"}, {"siren": ["invalid_siren"]}),
        (
            {"siren": "1", "siret": "2", "iban": "3", "nie": "!"},
            {
                "siren": ["invalid_siren"],
                "siret": ["invalid_siret"],
                "iban": ["invalid_iban"],
                "nie": ["invalid_nie"],
            },
        ),
    ],
)
def test_vendor_create_refuses_bad_input_naming_each_field(admin, fields, expected):
    data = {"name": "Éditeur", "siren": SIREN, "siret": SIRET, "nie": "", "iban": ""} | fields
    with pytest.raises(ValidationError) as exc_info:
        services.vendor_create(actor=admin, **data)
    assert _errors(exc_info) == expected
    assert not Vendor.objects.exists()
    assert not AuditEntry.objects.exists()


def test_vendor_create_refuses_a_duplicate_siren_or_nie(admin):
    VendorFactory(siren=SIREN, siret=SIRET, nie="ED0142")
    with pytest.raises(ValidationError) as exc_info:
        services.vendor_create(actor=admin, name="Copie", siren=SIREN, siret=SIRET, nie="ED 0142")
    assert _errors(exc_info) == {"siren": ["unique"], "nie": ["unique"]}


@pytest.mark.parametrize(
    "role", [Role.REVIEWER, Role.PAYMENT_OFFICER, Role.VENDOR, Role.ESTABLISHMENT]
)
def test_vendor_create_is_for_ans_admins_only(db, role):
    actor = vendor_member(VendorFactory()) if role == Role.VENDOR else UserFactory(role=role)
    with pytest.raises(NotAllowed):
        services.vendor_create(actor=actor, name="X", siren=SIREN, siret=SIRET)
    assert not Vendor.objects.filter(siren=SIREN).exists()


def test_a_superuser_and_a_system_actor_may_create_vendors(db):
    root = UserFactory(role="", is_superuser=True)
    services.vendor_create(actor=root, name="A", siren=SIREN, siret=SIRET)
    other = valid_siren(4242)
    vendor = services.vendor_create(
        actor="load_demo", name="B", siren=other, siret=valid_siret(other)
    )
    entry = _entries("vendor.create", vendor)[0]
    assert entry.actor_id is None
    assert entry.actor_repr.endswith("load_demo")


# --- vendor_update -------------------------------------------------------------------------------
def test_vendor_update_audits_the_diff_only(admin):
    vendor = VendorFactory(name="Ancien nom")
    services.vendor_update(actor=admin, vendor=vendor, name="Nouveau nom", nie=vendor.nie)
    vendor.refresh_from_db()
    assert vendor.name == "Nouveau nom"
    [entry] = _entries("vendor.update", vendor)
    assert entry.changes == {"name": ["Ancien nom", "Nouveau nom"]}


def test_vendor_update_without_change_writes_nothing(admin):
    vendor = VendorFactory()
    services.vendor_update(actor=admin, vendor=vendor, name=vendor.name, siren=vendor.siren)
    assert not AuditEntry.objects.exists()


def test_new_iban_masked_in_audit_and_voids_the_enrolment(admin):
    vendor = VendorFactory(enrolled_at=timezone.now())
    services.vendor_update(actor=admin, vendor=vendor, iban="DE89 3704 0044 0532 0130 00")
    vendor.refresh_from_db()
    assert vendor.iban == "DE89370400440532013000"
    assert vendor.enrolled_at is None
    [entry] = _entries("vendor.update", vendor)
    assert entry.changes["iban"] == ["****0189", "****3000"]
    assert entry.changes["enrolled_at"][1] is None
    assert "DE89370400440532013000" not in str(entry.changes)
    assert entry.reason


def test_same_iban_differently_written_keeps_the_enrolment(admin):
    enrolled = timezone.now()
    vendor = VendorFactory(enrolled_at=enrolled)
    services.vendor_update(actor=admin, vendor=vendor, iban="fr76 3000 6000 0112 3456 7890 189")
    vendor.refresh_from_db()
    assert vendor.enrolled_at == enrolled
    assert not AuditEntry.objects.exists()


def test_vendor_update_checks_siret_against_the_new_siren(admin):
    vendor = VendorFactory()
    with pytest.raises(ValidationError) as exc_info:
        services.vendor_update(actor=admin, vendor=vendor, siren=SIREN)
    assert _errors(exc_info) == {"siret": ["siret_siren_mismatch"]}
    services.vendor_update(actor=admin, vendor=vendor, siren=SIREN, siret=SIRET)
    vendor.refresh_from_db()
    assert (vendor.siren, vendor.siret) == (SIREN, SIRET)


def test_vendor_update_refuses_another_vendors_siren(admin):
    VendorFactory(siren=SIREN, siret=SIRET)
    vendor = VendorFactory()
    with pytest.raises(ValidationError) as exc_info:
        services.vendor_update(actor=admin, vendor=vendor, siren=SIREN, siret=SIRET)
    assert _errors(exc_info)["siren"] == ["unique"]


def test_vendor_update_refuses_unknown_fields(admin):
    vendor = VendorFactory()
    with pytest.raises(InvalidInput) as exc_info:
        services.vendor_update(actor=admin, vendor=vendor, enrolled_at=timezone.now())
    assert exc_info.value.errors[0].attr == "enrolled_at"


def test_vendor_update_is_for_ans_admins_only(db):
    vendor = VendorFactory(name="Intact")
    with pytest.raises(NotAllowed):
        services.vendor_update(actor=vendor_member(vendor), vendor=vendor, name="Piraté")
    vendor.refresh_from_db()
    assert vendor.name == "Intact"


# --- solutions ------------------------------------------------------------------------------------
def test_solution_create_by_a_member_of_the_vendor(db):
    vendor = VendorFactory()
    member = vendor_member(vendor)
    lgc = Category.objects.get(code="LGC")
    solution = services.solution_create(
        actor=member, vendor=vendor, name=" Praxéo Cabinet ", category=lgc
    )
    assert (solution.vendor, solution.name, solution.category) == (vendor, "Praxéo Cabinet", lgc)
    [entry] = _entries("solution.create", solution)
    assert entry.actor_id == member.pk
    assert entry.changes == {
        "vendor": [None, str(vendor.pk)],
        "name": [None, "Praxéo Cabinet"],
        "category": [None, str(lgc.pk)],
    }


@pytest.mark.parametrize("who", ["other_vendor", Role.ANS_ADMIN, Role.REVIEWER])
def test_solution_create_refused_to_anyone_but_the_vendors_members(db, who):
    vendor = VendorFactory()
    actor = vendor_member(VendorFactory()) if who == "other_vendor" else UserFactory(role=who)
    with pytest.raises(NotAllowed):
        services.solution_create(
            actor=actor, vendor=vendor, name="X", category=Category.objects.get(code="DPI")
        )
    assert not Solution.objects.exists()


def test_solution_name_is_unique_per_vendor_and_category_ignoring_case(db):
    solution = SolutionFactory(name="Hospitalia DPI")
    member = vendor_member(solution.vendor)
    with pytest.raises(InvalidInput) as exc_info:
        services.solution_create(
            actor=member, vendor=solution.vendor, name="HOSPITALIA dpi", category=solution.category
        )
    assert (exc_info.value.codes, exc_info.value.errors[0].attr) == (["unique"], "name")
    # same name, other category, or other vendor: fine
    services.solution_create(
        actor=member,
        vendor=solution.vendor,
        name="Hospitalia DPI",
        category=Category.objects.get(code="RI"),
    )
    other = VendorFactory()
    services.solution_create(
        actor=vendor_member(other), vendor=other, name="Hospitalia DPI", category=solution.category
    )
    assert Solution.objects.filter(name="Hospitalia DPI").count() == 3


def test_solution_update_renames_and_audits(db):
    solution = SolutionFactory(name="Avant")
    member = vendor_member(solution.vendor)
    services.solution_update(actor=member, solution=solution, name="Après")
    solution.refresh_from_db()
    assert solution.name == "Après"
    [entry] = _entries("solution.update", solution)
    assert entry.changes == {"name": ["Avant", "Après"]}


def test_solution_category_changes_only_while_it_has_no_version(db):
    solution = SolutionFactory()
    member = vendor_member(solution.vendor)
    ri, lgc = Category.objects.get(code="RI"), Category.objects.get(code="LGC")
    services.solution_update(actor=member, solution=solution, category=ri)
    solution.refresh_from_db()
    assert solution.category == ri
    SolutionVersionFactory(solution=solution)
    with pytest.raises(Conflict) as exc_info:
        services.solution_update(actor=member, solution=solution, category=lgc)
    assert exc_info.value.codes == ["category_locked"]
    solution.refresh_from_db()
    assert solution.category == ri


def test_solution_update_refused_to_another_vendors_member(db):
    solution = SolutionFactory(name="Intact")
    with pytest.raises(NotAllowed):
        services.solution_update(
            actor=vendor_member(VendorFactory()), solution=solution, name="Piraté"
        )
    solution.refresh_from_db()
    assert solution.name == "Intact"


# --- versions ------------------------------------------------------------------------------------
def test_version_create_audits(db):
    solution = SolutionFactory()
    member = vendor_member(solution.vendor)
    version = services.solution_version_create(
        actor=member, solution=solution, number=" 2025.1 ", released_on=dt.date(2025, 6, 16)
    )
    assert (version.number, version.released_on) == ("2025.1", dt.date(2025, 6, 16))
    [entry] = _entries("solution_version.create", version)
    assert entry.changes == {
        "solution": [None, str(solution.pk)],
        "number": [None, "2025.1"],
        "released_on": [None, "2025-06-16"],
    }


def test_version_number_is_unique_per_solution_ignoring_case(db):
    version = SolutionVersionFactory(number="V2.0")
    member = vendor_member(version.solution.vendor)
    with pytest.raises(InvalidInput) as exc_info:
        services.solution_version_create(actor=member, solution=version.solution, number="v2.0")
    assert (exc_info.value.codes, exc_info.value.errors[0].attr) == (["unique"], "number")
    other_solution = SolutionFactory(vendor=version.solution.vendor)
    services.solution_version_create(actor=member, solution=other_solution, number="V2.0")
    assert SolutionVersion.objects.filter(number="V2.0").count() == 2


def test_version_create_refused_to_another_vendors_member(db):
    solution = SolutionFactory()
    with pytest.raises(NotAllowed):
        services.solution_version_create(
            actor=vendor_member(VendorFactory()), solution=solution, number="1.0"
        )
    assert not SolutionVersion.objects.exists()


def test_blank_version_number_is_refused(db):
    solution = SolutionFactory()
    with pytest.raises(ValidationError) as exc_info:
        services.solution_version_create(
            actor=vendor_member(solution.vendor), solution=solution, number="  "
        )
    assert _errors(exc_info) == {"number": ["blank"]}


def test_every_write_keeps_the_audit_chain_valid(admin):
    vendor = services.vendor_create(actor=admin, name="A", siren=SIREN, siret=SIRET)
    member = vendor_member(vendor)
    solution = services.solution_create(
        actor=member, vendor=vendor, name="S", category=Category.objects.get(code="SIR")
    )
    services.solution_version_create(actor=member, solution=solution, number="1")
    services.vendor_update(actor=admin, vendor=vendor, iban=VALID_IBAN)
    assert AuditEntry.objects.count() == 4
    assert audit_verify().ok


# --- concurrency ---------------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicate_versions_give_one_version_and_one_unique_error():
    """Two members declare the same version at the same time: the solution row lock serialises
    them; the loser gets the same 400 `unique` as a sequential duplicate, never a 500."""
    import threading

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the in-memory SQLite test database locks whole tables across threads")
    solution = SolutionFactory()
    members = [vendor_member(solution.vendor), vendor_member(solution.vendor)]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def declare(member):
        try:
            barrier.wait(timeout=5)
            services.solution_version_create(actor=member, solution=solution, number="9.9")
            outcomes.append("created")
        except InvalidInput as exc:
            outcomes.append(exc.codes[0])
        finally:
            connection.close()

    threads = [threading.Thread(target=declare, args=(m,)) for m in members]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["created", "unique"]
    assert SolutionVersion.objects.filter(solution=solution, number="9.9").count() == 1
    assert AuditEntry.objects.filter(action="solution_version.create").count() == 1
