import datetime as dt
from decimal import Decimal

import factory

from core.timeutils import end_of_day_paris
from sons.models import Category, Requirement, RequirementSet, Scheme, Wave


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
    category = factory.LazyFunction(lambda: Category.objects.get(code="DPI"))
    sector = factory.LazyAttribute(lambda s: s.category.sector)
    code = factory.Sequence(lambda n: f"HOP-DPI-T{n}")
    name = factory.LazyAttribute(lambda s: f"Dispositif {s.code}")
    submission_opens = factory.LazyFunction(lambda: end_of_day_paris(dt.date(2025, 1, 1)))
    submission_closes = factory.LazyFunction(lambda: end_of_day_paris(dt.date(2026, 12, 31)))
    order_deadline = factory.LazyFunction(lambda: end_of_day_paris(dt.date(2027, 3, 31)))
    installation_deadline = factory.LazyFunction(lambda: end_of_day_paris(dt.date(2027, 9, 30)))
    payment_deadline = factory.LazyFunction(lambda: end_of_day_paris(dt.date(2027, 12, 31)))
    price_cap = Decimal("25000.00")
    advance_rate = Decimal("0.30")


class RequirementSetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RequirementSet

    scheme = factory.SubFactory(SchemeFactory)
    version = 1


class RequirementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Requirement

    requirement_set = factory.SubFactory(RequirementSetFactory)
    code = factory.Sequence(lambda n: f"REQ.{n:03d}")
    title = factory.Sequence(lambda n: f"Exigence {n}")
    statement = "Le logiciel DOIT faire ce qui est attendu."
