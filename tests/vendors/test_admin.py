"""Django admin of vendors, solutions and versions: pages work, input is checked, writes audited."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.models import AuditEntry
from sons.models import Category
from tests.factories.accounts import UserFactory
from tests.factories.vendors import SolutionVersionFactory, VendorFactory
from vendors.models import Solution, Vendor


@pytest.fixture
def staff(client, db):
    root = UserFactory(role="ans_admin", is_superuser=True, is_staff=True)
    client.force_login(root)
    client.user = root
    return client


def _management(prefix: str, total: int = 0, initial: int = 0) -> dict:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/admin/vendors/vendor/", "Hospitalia"),
        ("/admin/vendors/vendor/add/", "SIRET"),
        ("/admin/vendors/vendor/{vendor}/change/", "Hospitalia DPI"),  # solutions inline
        ("/admin/vendors/vendor/?q=Hospitalia", "Hospitalia"),
        ("/admin/vendors/solution/", "Hospitalia DPI"),
        ("/admin/vendors/solution/{solution}/change/", "2025.7"),  # versions inline
        ("/admin/vendors/solutionversion/", "2025.7"),
        ("/admin/vendors/solutionversion/{version}/change/", "2025.7"),
        ("/admin/vendors/solutionversion/?q=2025", "Hospitalia"),
    ],
)
def test_admin_pages_answer(staff, url, expected):
    version = SolutionVersionFactory(
        number="2025.7", solution__name="Hospitalia DPI", solution__vendor__name="Hospitalia"
    )
    url = url.format(
        vendor=version.solution.vendor.pk, solution=version.solution.pk, version=version.pk
    )
    response = staff.get(url)
    assert response.status_code == 200
    assert expected in response.content.decode()


def test_admin_changelist_hides_the_iban(staff):
    VendorFactory()
    page = staff.get("/admin/vendors/vendor/").content.decode()
    assert "****0189" in page
    assert "FR7630006000011234567890189" not in page


def test_admin_add_vendor_normalises_and_audits(staff):
    response = staff.post(
        "/admin/vendors/vendor/add/",
        {
            "name": "Hospitalia",
            "siren": "732 829 320",
            "siret": "732 829 320 00074",
            "nie": "ed-0142",
            "iban": "FR76 3000 6000 0112 3456 7890 189",
            **_management("solutions"),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    vendor = Vendor.objects.get()
    assert (vendor.siren, vendor.siret, vendor.nie, vendor.iban) == (
        "732829320",
        "73282932000074",
        "ED0142",
        "FR7630006000011234567890189",
    )
    entry = AuditEntry.objects.get(action="vendor.create")
    assert entry.actor_id == staff.user.pk
    assert "FR7630006000011234567890189" not in str(entry.changes)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("siren", "732829321", "clé de contrôle du SIREN"),
        ("siret", "55208131766522", "doit commencer par le SIREN"),
        ("iban", "FR7630006000011234567890188", "IBAN invalide"),
    ],
)
def test_admin_refuses_bad_identifiers(staff, field, value, message):
    data = {
        "name": "Hospitalia",
        "siren": "732829320",
        "siret": "73282932000074",
        "nie": "",
        "iban": "",
        **_management("solutions"),
    }
    data[field] = value
    response = staff.post("/admin/vendors/vendor/add/", data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Vendor.objects.exists()


def test_admin_inline_solution_is_audited(staff):
    vendor = VendorFactory()
    dpi = Category.objects.get(code="DPI")
    data = {
        "name": vendor.name,
        "siren": vendor.siren,
        "siret": vendor.siret,
        "nie": vendor.nie,
        "iban": vendor.iban,
        **_management("solutions", total=1),
        "solutions-0-name": "Hospitalia DPI",
        "solutions-0-category": str(dpi.pk),
    }
    response = staff.post(f"/admin/vendors/vendor/{vendor.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    solution = Solution.objects.get(vendor=vendor)
    entry = AuditEntry.objects.get(action="solution.create")
    assert entry.object_id == str(solution.pk)
    assert entry.changes["name"] == [None, "Hospitalia DPI"]
    assert entry.changes["category"] == [None, str(dpi.pk)]


def test_admin_new_iban_voids_the_enrolment(staff):
    vendor = VendorFactory(enrolled_at=timezone.now())
    data = {
        "name": vendor.name,
        "siren": vendor.siren,
        "siret": vendor.siret,
        "nie": vendor.nie,
        "iban": "DE89370400440532013000",
        **_management("solutions"),
    }
    response = staff.post(f"/admin/vendors/vendor/{vendor.pk}/change/", data)
    assert response.status_code == 302
    vendor.refresh_from_db()
    assert vendor.iban == "DE89370400440532013000"
    assert vendor.enrolled_at is None


@pytest.mark.parametrize("model", ["vendor", "solution", "solutionversion"])
def test_admin_changelist_query_count_is_constant(staff, model):
    def page_queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert staff.get(f"/admin/vendors/{model}/").status_code == 200
        return len(ctx.captured_queries)

    for _ in range(2):
        SolutionVersionFactory()
    few = page_queries()
    for _ in range(8):
        SolutionVersionFactory()
    assert page_queries() == few
