import factory

from accounts.models import Role
from core.identifiers import luhn_key
from tests.factories.accounts import UserFactory
from tests.factories.sons import programme_category
from vendors.models import Solution, SolutionVersion, Vendor

VALID_IBAN = "FR7630006000011234567890189"


def valid_siren(n: int) -> str:
    """A Luhn-valid SIREN, distinct for each `n` (the first 8 digits differ)."""
    body = f"{100000000 + n * 7919:09d}"[:8]
    return body + luhn_key(body)


def valid_siret(siren: str, establishment: str = "0001") -> str:
    """A Luhn-valid SIRET of `siren` (not for La Poste, whose rule differs)."""
    body = siren + establishment
    return body + luhn_key(body)


class VendorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Vendor

    name = factory.Sequence(lambda n: f"Éditeur {n}")
    siren = factory.Sequence(valid_siren)
    siret = factory.LazyAttribute(lambda v: valid_siret(v.siren))
    nie = factory.Sequence(lambda n: f"NIE{n:05d}")
    iban = VALID_IBAN


class SolutionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Solution

    vendor = factory.SubFactory(VendorFactory)
    name = factory.Sequence(lambda n: f"Logiciel {n}")
    category = factory.LazyFunction(lambda: programme_category("DPI"))


class SolutionVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SolutionVersion

    solution = factory.SubFactory(SolutionFactory)
    number = factory.Sequence(lambda n: f"2025.{n}")


def vendor_member(vendor: Vendor, **kwargs):
    """A user with the vendor role, member of `vendor`."""
    return UserFactory(role=Role.VENDOR, vendor=vendor, **kwargs)
