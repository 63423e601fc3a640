import factory

from core.identifiers import luhn_key
from sons.models import Category
from vendors.models import Solution, SolutionVersion, Vendor


def _siren(n: int) -> str:
    body = f"{100000000 + n * 7919:09d}"[:8]
    return body + luhn_key(body)


class VendorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Vendor

    name = factory.Sequence(lambda n: f"Éditeur {n}")
    siren = factory.Sequence(_siren)
    siret = factory.LazyAttribute(lambda v: v.siren + "0001" + luhn_key(v.siren + "0001"))
    nie = factory.Sequence(lambda n: f"NIE{n:05d}")
    iban = "FR7630006000011234567890189"


class SolutionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Solution

    vendor = factory.SubFactory(VendorFactory)
    name = factory.Sequence(lambda n: f"Logiciel {n}")
    category = factory.LazyFunction(lambda: Category.objects.get(code="DPI"))


class SolutionVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SolutionVersion

    solution = factory.SubFactory(SolutionFactory)
    number = factory.Sequence(lambda n: f"2025.{n}")
