"""`generate_national_dataset` at a tiny scale: wave-1 proportions, valid identifiers, every
eligibility reason code present after the batch, one audit entry, the same data for the same seed,
and the refusal to run twice unless `--reset` (which removes only what it generated)."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count

from accounts.models import User
from core.identifiers import (
    validate_finess,
    validate_iban,
    validate_rpps,
    validate_siren,
    validate_siret,
)
from core.models import AuditEntry
from orders.models import Establishment, PurchaseOrder
from payments import eligibility
from payments.models import EligibilityResult, PaymentRequest
from payments.selectors import deployment_rows
from payments.services import eligibility_check_schemes
from referencing_app.models import Dossier, Referencing
from sons.models import EligibleEstablishment
from tests.factories.orders import EstablishmentFactory
from tests.factories.vendors import VendorFactory
from vendors.models import Solution, Vendor

SCALE = "0.01"
GENERATED_VENDORS = {"nie__startswith": "SONSNAT"}


def generate(*options: str) -> str:
    out = io.StringIO()
    call_command("generate_national_dataset", "--scale", SCALE, *options, stdout=out)
    return out.getvalue()


@pytest.fixture
def programme(db):
    call_command("load_programme", stdout=io.StringIO())


def test_wave1_proportions_and_valid_identifiers(programme):
    output = generate()
    kinds = dict(Establishment.objects.values_list("kind").annotate(n=Count("id")))
    # scale 0.01 of 2,000 hospitals, 51,000 practices, 1,500 health centres, 20,000 pharmacies,
    # 850 radiology structures and 1,000 laboratories
    assert kinds == {
        "hospital": 20,
        "practice": 510,
        "health_centre": 15,
        "pharmacy": 200,
        "radiology": 8,
        "laboratory": 10,
    }
    signed_states = ["signed", "installation_declared", "reserved", "installed", "lapsed"]
    per_scheme = dict(
        PurchaseOrder.objects.filter(state__in=signed_states)
        .values_list("scheme__code")
        .annotate(n=Count("id"))
    )
    assert per_scheme == {
        "HOP-DPI-VA1": 20,
        "HOP-RI-VA1": 20,
        "HOP-PFI-VA1": 20,
        "MDV-LGC-VA1": 525,
        "OFF-LGO-VA1": 200,
        "RAD-SIR-VA1": 8,
        "BIO-SGL-VA1": 10,
    }
    # a few extra orders (cancelled, declined, draft, sent, void) besides the signed ones
    assert 783 < PurchaseOrder.objects.count() < 783 * 1.05
    assert "commandes" in output

    vendors = Vendor.objects.filter(**GENERATED_VENDORS)
    assert vendors.count() == 103  # the wave-1 catalogue: 167 solutions from 103 companies
    assert Solution.objects.filter(vendor__in=vendors).count() == 167
    for vendor in vendors:
        validate_siren(vendor.siren)
        validate_siret(vendor.siret)
        assert vendor.siret.startswith(vendor.siren)
        validate_iban(vendor.iban)
    assert vendors.filter(enrolled_at__isnull=True).count() == 7  # one small vendor per category
    for establishment in Establishment.objects.all():
        if establishment.finess:
            validate_finess(establishment.finess)
        else:
            validate_rpps(establishment.rpps)
    states = dict(Referencing.objects.values_list("state").annotate(n=Count("id")))
    assert states == {"active": 153, "suspended": 7, "revoked": 7}
    assert not Referencing.objects.exclude(dossier__state="approved").exists()
    assert Dossier.objects.filter(state="rejected").count() == 7
    # the schemes with an eligible base have one, less the establishments left out on purpose
    base = dict(EligibleEstablishment.objects.values_list("scheme__code").annotate(n=Count("id")))
    assert set(base) == {"HOP-DPI-VA1", "HOP-RI-VA1", "HOP-PFI-VA1", "OFF-LGO-VA1"}
    assert 195 <= base["OFF-LGO-VA1"] < 200

    # the official report's installation rates, within what a tiny scale allows
    rates = {row["scheme"]: row for row in deployment_rows() if row["ordered"]}
    assert rates["MDV-LGC-VA1"]["installation_rate"] == pytest.approx(0.994, abs=0.002)
    assert rates["OFF-LGO-VA1"]["installation_rate"] == pytest.approx(0.987, abs=0.005)
    assert rates["MDV-LGC-VA1"]["with_balance_request"] > 0.8 * rates["MDV-LGC-VA1"]["installed"]
    assert PaymentRequest.objects.filter(kind="advance").exists()


def test_every_reason_code_appears_after_the_batch(programme):
    generate()
    results = eligibility_check_schemes()
    assert sum(r.orders for r in results) == PurchaseOrder.objects.count()
    found = set()
    for advance, balance in EligibilityResult.objects.values_list(
        "advance_reasons", "balance_reasons"
    ):
        found.update(code for code in f"{advance},{balance}".split(",") if code)
    assert found == set(eligibility.REASON_CODES)


def test_one_summary_audit_entry_and_the_same_data_for_the_same_seed(programme):
    before = AuditEntry.objects.count()
    generate("--seed", "7")
    assert AuditEntry.objects.count() == before + 1
    entry = AuditEntry.objects.order_by("-seq").first()
    assert (entry.action, entry.actor_repr) == (
        "dataset.generate",
        "système: generate_national_dataset",
    )
    assert entry.changes["orders"] == [None, PurchaseOrder.objects.count()]
    first = set(PurchaseOrder.objects.values_list("id", "state", "amount"))
    generate("--seed", "7", "--reset")
    assert set(PurchaseOrder.objects.values_list("id", "state", "amount")) == first
    generate("--seed", "8", "--reset")
    assert set(PurchaseOrder.objects.values_list("id", "state", "amount")) != first


def test_refuses_twice_and_reset_removes_only_generated_rows(programme):
    own_vendor = VendorFactory()
    own_establishment = EstablishmentFactory()
    users_before = User.objects.count()
    generate()
    counts = (PurchaseOrder.objects.count(), Establishment.objects.count())
    with pytest.raises(CommandError, match="--reset"):
        generate()
    assert (PurchaseOrder.objects.count(), Establishment.objects.count()) == counts
    eligibility_check_schemes()  # results and runs of the generated orders go with them
    generate("--reset")
    assert (PurchaseOrder.objects.count(), Establishment.objects.count()) == counts
    generate("--reset-only")
    assert not PurchaseOrder.objects.exists()
    assert not EligibilityResult.objects.exists()
    assert not PaymentRequest.objects.exists()
    assert not EligibleEstablishment.objects.exists()
    assert not Vendor.objects.filter(**GENERATED_VENDORS).exists()
    assert list(Vendor.objects.all()) == [own_vendor]
    assert list(Establishment.objects.all()) == [own_establishment]
    assert User.objects.count() == users_before
    generate()  # and it can generate again
    assert PurchaseOrder.objects.count() == counts[0]


def test_loads_the_programme_when_the_schemes_are_missing(db):
    output = generate()
    assert "load_programme" in output
    assert PurchaseOrder.objects.filter(scheme__code="MDV-LGC-VA1").exists()
