import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from core.identifiers import luhn_key
from core.timeutils import end_of_day_paris
from sons.models import (
    Category,
    EligibleEstablishment,
    ExpectedProof,
    Requirement,
    RequirementSet,
    Scenario,
    Scheme,
    Wave,
)


def finess(n: int, departement: str = "75") -> str:
    """A valid FINESS number (Luhn key over the 9 digits)."""
    body = f"{departement}{n % 10**6:06d}"
    return body + luhn_key(body)


def rpps(n: int) -> str:
    body = f"1{n % 10**9:09d}"
    return body + luhn_key(body)


def siret(n: int) -> str:
    body = f"4{n % 10**12:012d}"
    return body + luhn_key(body)


def programme_category(code: str) -> Category:
    """A category of the programme; re-seeds sectors and categories when a transactional test
    has flushed the data the migration put there."""
    if not Category.objects.filter(code=code).exists():
        from importlib import import_module

        from django.apps import apps

        import_module("sons.migrations.0002_sectors_and_categories").forwards(apps, None)
    return Category.objects.get(code=code)


class WaveFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Wave
        django_get_or_create = ["code"]

    code = "VA2"
    name = "Vague 2"


class SchemeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Scheme

    wave = factory.SubFactory(WaveFactory)
    category = factory.LazyFunction(lambda: programme_category("DPI"))
    sector = factory.LazyAttribute(lambda s: s.category.sector)
    code = factory.Sequence(lambda n: f"HOP-DPI-T{n}")
    name = factory.LazyAttribute(lambda s: f"Dispositif {s.code}")
    submission_opens = factory.LazyFunction(lambda: end_of_day_paris(dt.date(2025, 1, 1)))
    # far enough ahead that the suite keeps working as the real calendar moves on
    submission_closes = factory.LazyFunction(lambda: end_of_day_paris(dt.date(2035, 12, 31)))
    order_deadline = factory.LazyFunction(lambda: end_of_day_paris(dt.date(2036, 3, 31)))
    installation_deadline = factory.LazyFunction(lambda: end_of_day_paris(dt.date(2036, 9, 30)))
    payment_deadline = factory.LazyFunction(lambda: end_of_day_paris(dt.date(2036, 12, 31)))
    price_cap = Decimal("25000.00")
    advance_rate = Decimal("0.30")


class RequirementSetFactory(factory.django.DjangoModelFactory):
    """A draft version (published_at empty) unless `published=True` is passed."""

    class Meta:
        model = RequirementSet

    class Params:
        published = factory.Trait(published_at=factory.LazyFunction(timezone.now))

    scheme = factory.SubFactory(SchemeFactory)
    version = 1


class RequirementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Requirement

    requirement_set = factory.SubFactory(RequirementSetFactory)
    code = factory.Sequence(lambda n: f"REQ.{n:03d}")
    title = factory.Sequence(lambda n: f"Exigence {n}")
    statement = "Le logiciel DOIT faire ce qui est attendu."
    position = factory.Sequence(lambda n: n)


class ScenarioFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Scenario

    requirement = factory.SubFactory(RequirementFactory)
    code = factory.Sequence(lambda n: f"SCN.{n:03d}")
    description = "Démonstration du parcours nominal"


class ExpectedProofFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExpectedProof

    scenario = factory.SubFactory(ScenarioFactory)
    code = factory.Sequence(lambda n: f"PRV.{n:03d}")
    nature = "01 - Démonstration"
    text = "Copies d'écran du parcours"


def published_requirement(requirement_set: RequirementSet, code: str, **kwargs) -> Requirement:
    """A requirement with one scenario and two proofs."""
    requirement = RequirementFactory(requirement_set=requirement_set, code=code, **kwargs)
    scenario = ScenarioFactory(requirement=requirement, code=f"{code}.01")
    ExpectedProofFactory(scenario=scenario, code=f"{code}.01.01")
    ExpectedProofFactory(scenario=scenario, code=f"{code}.01.02", nature="02 - Trace technique")
    return requirement


class EligibleEstablishmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EligibleEstablishment

    scheme = factory.SubFactory(SchemeFactory)
    establishment = factory.Sequence(lambda n: finess(n + 1))
    name = factory.Sequence(lambda n: f"Centre hospitalier {n}")
    max_amount = Decimal("20000.00")
