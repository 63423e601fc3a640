import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command

from core.audit import audit_verify
from core.models import AuditEntry
from sons.models import (
    Category,
    ExpectedProof,
    Requirement,
    RequirementSet,
    Scenario,
    Scheme,
    Sector,
    Wave,
)
from sons.programme import SCHEMES

pytestmark = pytest.mark.django_db

UTC = dt.UTC


def _counts():
    return {
        model.__name__: model.objects.count()
        for model in (
            Wave,
            Scheme,
            RequirementSet,
            Requirement,
            Scenario,
            ExpectedProof,
            AuditEntry,
        )
    }


def test_sectors_and_categories_exist_after_migrate():
    assert set(Sector.objects.values_list("code", flat=True)) == {
        "HOP",
        "MDV",
        "BIO",
        "RAD",
        "OFF",
        "MSS",
    }
    pairs = set(Category.objects.values_list("code", "sector__code"))
    assert pairs == {
        ("DPI", "HOP"),
        ("RI", "HOP"),
        ("PFI", "HOP"),
        ("LGC", "MDV"),
        ("SIR", "RAD"),
        ("SGL", "BIO"),
        ("LGO", "OFF"),
        ("MSS", "MSS"),
    }


def test_load_programme_is_idempotent():
    call_command("load_programme")
    first = _counts()
    call_command("load_programme")
    assert _counts() == first
    assert first["Wave"] == 2
    assert first["Scheme"] == len(SCHEMES) == 14
    assert first["RequirementSet"] == 14
    assert audit_verify().ok
    actors = set(AuditEntry.objects.values_list("actor_repr", flat=True))
    assert actors == {"système: load_programme"}


def test_load_programme_leaves_existing_schemes_as_they_are():
    call_command("load_programme")
    scheme = Scheme.objects.get(code="HOP-DPI-VA2")
    Scheme.objects.filter(pk=scheme.pk).update(price_cap=Decimal("1.00"))
    call_command("load_programme")
    scheme.refresh_from_db()
    assert scheme.price_cap == Decimal("1.00")


def test_wave_1_has_the_real_calendar():
    call_command("load_programme")
    lgc = Scheme.objects.get(code="MDV-LGC-VA1")
    lgo = Scheme.objects.get(code="OFF-LGO-VA1")
    # 31 Aug 2021 00:00 Paris (CEST)
    assert lgc.submission_opens == dt.datetime(2021, 8, 30, 22, 0, tzinfo=UTC)
    # orders by 30 Nov 2022 (CET) and 18 Dec 2022, end of the Paris day
    assert lgc.order_deadline == dt.datetime(2022, 11, 30, 22, 59, 59, 999999, tzinfo=UTC)
    assert lgo.order_deadline == dt.datetime(2022, 12, 18, 22, 59, 59, 999999, tzinfo=UTC)
    for scheme in Scheme.objects.filter(wave__code="VA1"):
        assert scheme.installation_deadline == dt.datetime(
            2023, 9, 20, 21, 59, 59, 999999, tzinfo=UTC
        )
        assert scheme.payment_deadline == dt.datetime(2023, 12, 14, 22, 59, 59, 999999, tzinfo=UTC)
    assert lgo.price_cap == Decimal("875.00")
    assert lgo.uses_eligible_base
    assert set(Scheme.objects.filter(wave__code="VA1").values_list("code", flat=True)) == {
        "HOP-DPI-VA1",
        "HOP-RI-VA1",
        "HOP-PFI-VA1",
        "MDV-LGC-VA1",
        "RAD-SIR-VA1",
        "BIO-SGL-VA1",
        "OFF-LGO-VA1",
    }


def test_wave_2_demo_is_open_today_with_a_few_dozen_requirements():
    call_command("load_programme")
    today = dt.datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    wave2 = Scheme.objects.filter(wave__code="VA2").select_related("category")
    assert wave2.count() == 7
    for scheme in wave2:
        assert scheme.submission_opens <= today <= scheme.submission_closes, scheme.code
        assert scheme.sector_id == scheme.category.sector_id
        current = scheme.requirement_sets.get()
        assert current.is_published
        requirements = current.requirements.all()
        assert requirements.count() >= 30, scheme.code
        assert requirements.filter(nature="recommended").exists()
        assert requirements.filter(code__startswith=f"{scheme.category.code}.").count() >= 5
        assert not Scenario.objects.filter(
            requirement__requirement_set=current, proofs__isnull=True
        ).exists()
    lgc = Requirement.objects.get(requirement_set__scheme__code="MDV-LGC-VA2", code="LGC.DMP.01")
    assert lgc.scenarios.get().proofs.count() >= 1
    for scheme in Scheme.objects.filter(wave__code="VA1"):
        assert 5 <= scheme.requirement_sets.get().requirements.count() < 30


def test_the_fixture_is_read_from_the_project_not_from_shared():
    from sons import programme

    assert programme.REQUIREMENTS_FIXTURE.parts[-3:] == (
        "sons",
        "fixtures",
        "requirements_va2.json",
    )
    assert "shared" not in programme.REQUIREMENTS_FIXTURE.parts
