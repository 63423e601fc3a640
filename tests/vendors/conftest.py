import pytest

from tests.factories.vendors import (
    SolutionFactory,
    SolutionVersionFactory,
    VendorFactory,
    vendor_member,
)
from tests.vendors.helpers import VendorWorld


@pytest.fixture
def world(db) -> VendorWorld:
    vendor = VendorFactory(name="Hospitalia Logiciels")
    solution = SolutionFactory(vendor=vendor, name="Hospitalia DPI")
    version = SolutionVersionFactory(solution=solution, number="2025.1")
    other_vendor = VendorFactory(name="Praxéo Santé")
    SolutionVersionFactory(solution=SolutionFactory(vendor=other_vendor, name="Praxéo Cabinet"))
    return VendorWorld(
        vendor=vendor,
        solution=solution,
        version=version,
        member=vendor_member(vendor, first_name="Marc", last_name="Lefèvre"),
        other_vendor=other_vendor,
        other_member=vendor_member(other_vendor),
    )
