"""Installation and acceptance: the guards of declare-installation (version, report, date), the
installation deadline on confirm, reservations raised, lifted and confirmed."""

import datetime as dt

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from core.errors import InvalidInput
from core.timeutils import paris_instant, paris_today
from orders import services
from orders.models import Reservation
from referencing_app import services as referencing_services
from tests.factories.orders import make_order_world, order_in
from tests.factories.referencing import PDF, pdf_upload, upload
from tests.factories.vendors import SolutionVersionFactory, vendor_member
from tests.orders.helpers import (
    assert_error,
    audit_of,
    client,
    order_url,
    other_solution_version,
    reload,
)


def declare(ow, order, **overrides):
    body = {
        "installed_on": paris_today().isoformat(),
        "version": str(ow.version.pk),
        "report": str(upload(ow.world, "pv.pdf").pk),
        **overrides,
    }
    return client(ow.member).post(order_url(order, "declare-installation"), body, format="json")


# --- declare-installation -----------------------------------------------------------------------
def test_declare_with_a_report_uploaded_through_evidence(db):
    ow = make_order_world()
    order = order_in(ow, "signed")
    api = client(ow.member)
    uploaded = api.post(
        "/api/v1/evidence/",
        {"file": SimpleUploadedFile("pv-va.pdf", PDF, content_type="application/pdf")},
        format="multipart",
    )
    assert uploaded.status_code == 201, uploaded.content
    newer = SolutionVersionFactory(solution=ow.version.solution)  # a later version of it
    response = api.post(
        order_url(order, "declare-installation"),
        {
            "installed_on": paris_today().isoformat(),
            "version": str(newer.pk),
            "report": uploaded.json()["id"],
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["state"], data["installed_version"], data["acceptance_report"]) == (
        "installation_declared",
        str(newer.pk),
        uploaded.json()["id"],
    )
    order = reload(order)
    assert order.installed_on == paris_today()
    entry = audit_of(order, "purchase_order.declare_installation").get()
    assert entry.changes["acceptance_report"] == [None, uploaded.json()["sha256"]]


def test_installed_version_must_be_of_the_ordered_solution(db):
    ow = make_order_world()
    order = order_in(ow, "signed")
    response = declare(ow, order, version=str(other_solution_version(ow).pk))
    assert_error(response, 400, "invalid", "version")
    assert reload(order).state == "signed"


@pytest.mark.parametrize("whose", ["other_vendor", "missing"])
def test_installed_version_must_exist_and_be_the_vendor_s(db, whose):
    ow = make_order_world()
    order = order_in(ow, "signed")
    version = (
        SolutionVersionFactory().pk
        if whose == "other_vendor"
        else "00000000-0000-4000-8000-000000000000"
    )
    assert_error(declare(ow, order, version=str(version)), 400, "does_not_exist", "version")


@pytest.mark.parametrize("whose", ["other_vendor", "missing"])
def test_report_must_be_evidence_of_the_vendor(db, whose):
    ow = make_order_world()
    order = order_in(ow, "signed")
    if whose == "other_vendor":
        stranger = vendor_member(ow.other_vendor_member.vendor)
        report = referencing_services.evidence_upload(actor=stranger, upload=pdf_upload()).pk
    else:
        report = "00000000-0000-4000-8000-000000000000"
    assert_error(declare(ow, order, report=str(report)), 400, "does_not_exist", "report")
    assert reload(order).state == "signed"


def test_service_refuses_a_report_of_another_vendor(db):
    ow = make_order_world()
    order = order_in(ow, "signed")
    foreign = referencing_services.evidence_upload(
        actor=ow.other_vendor_member, upload=pdf_upload()
    )
    with pytest.raises(InvalidInput) as refused:
        services.purchase_order_declare_installation(
            actor=ow.member,
            order=order,
            installed_on=paris_today(),
            version=ow.version,
            report=foreign,
        )
    assert (refused.value.errors[0].code, refused.value.errors[0].attr) == (
        "does_not_exist",
        "report",
    )


SIGNED_AT = paris_instant(2026, 11, 20, 0, 30)  # still 19 November in UTC


@pytest.mark.parametrize(
    ("now", "installed_on", "allowed"),
    [
        # not before the signature day, in Paris
        (paris_instant(2026, 11, 21, 12), dt.date(2026, 11, 19), False),
        (paris_instant(2026, 11, 21, 12), dt.date(2026, 11, 20), True),
        # not in the future, in Paris
        (paris_instant(2026, 11, 21, 23, 30), dt.date(2026, 11, 22), False),
        (paris_instant(2026, 11, 22, 0, 30), dt.date(2026, 11, 22), True),  # 21 Nov in UTC
        (paris_instant(2026, 11, 21, 12), dt.date(2026, 11, 21), True),
    ],
)
def test_installation_date_between_signature_and_today_paris(db, now, installed_on, allowed):
    with time_machine.travel(paris_instant(2026, 11, 10, 9), tick=False):
        ow = make_order_world()
        order = order_in(ow, "sent")
    with time_machine.travel(SIGNED_AT, tick=False):
        assert client(ow.signatory).post(order_url(order, "sign")).status_code == 200
    with time_machine.travel(now, tick=False):
        response = declare(ow, order, installed_on=installed_on.isoformat())
    if allowed:
        assert response.status_code == 200, response.content
        assert reload(order).installed_on == installed_on
    else:
        assert_error(response, 400, "invalid", "installed_on")
        assert reload(order).state == "signed"


# --- confirm, reserve, lift --------------------------------------------------------------------
@pytest.mark.parametrize("state", ["installation_declared", "reserved"])
def test_confirm_on_or_before_the_installation_deadline(db, state):
    ow = make_order_world()
    order = order_in(ow, state)
    deadline = ow.scheme.installation_deadline
    api = client(ow.signatory)
    with time_machine.travel(deadline + dt.timedelta(microseconds=1), tick=False):
        response = api.post(order_url(order, "confirm-installation"))
    assert_error(response, 409, "INSTALLATION_AFTER_DEADLINE")
    assert reload(order).state == state
    assert not audit_of(order, "purchase_order.confirm_installation").exists()
    with time_machine.travel(deadline, tick=False):  # the last instant, 23:59:59.999999 Paris
        response = api.post(order_url(order, "confirm-installation"))
    assert response.status_code == 200, response.content
    order = reload(order)
    assert (order.state, order.accepted_at, order.accepted_by) == (
        "installed",
        deadline,
        ow.signatory,
    )


def test_reserve_needs_at_least_one_reservation(db):
    ow = make_order_world()
    order = order_in(ow, "installation_declared")
    api = client(ow.signatory)
    assert_error(
        api.post(order_url(order, "reserve"), {"reservations": []}, format="json"),
        400,
        "min_length",
        "reservations",
    )
    assert_error(api.post(order_url(order, "reserve"), {}, format="json"), 400, "required")
    assert_error(
        api.post(order_url(order, "reserve"), {"reservations": ["   "]}, format="json"),
        400,
        "blank",
        "reservations.0",
    )
    with pytest.raises(InvalidInput) as refused:
        services.purchase_order_reserve(actor=ow.signatory, order=order, reservations=["", "  "])
    assert refused.value.errors[0].attr == "reservations"
    assert reload(order).state == "installation_declared"
    assert not Reservation.objects.exists()


def test_reserve_lift_then_confirm(db):
    ow = make_order_world()
    order = order_in(ow, "installation_declared")
    first_declared_at = order.declared_at
    establishment, vendor = client(ow.signatory), client(ow.member)
    response = establishment.post(
        order_url(order, "reserve"),
        {"reservations": ["Flux DMP non testé", " INSi absent "]},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "reserved"
    assert [(r["text"], r["lifted_at"]) for r in response.json()["reservations"]] == [
        ("Flux DMP non testé", None),
        ("INSi absent", None),
    ]
    assert set(Reservation.objects.values_list("raised_by", flat=True)) == {ow.signatory.pk}
    assert audit_of(order, "purchase_order.reserve").get().changes == {
        "reservations": [None, ["Flux DMP non testé", "INSi absent"]]
    }

    later = first_declared_at + dt.timedelta(days=3)
    with time_machine.travel(later, tick=False):
        response = vendor.post(order_url(order, "lift-reservations"))
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "installation_declared"
    assert all(r["lifted_at"] for r in response.json()["reservations"])
    assert reload(order).declared_at == later  # the tacit-acceptance delay starts again
    assert audit_of(order, "purchase_order.lift_reservations").get().changes == {"lifted": [0, 2]}

    response = establishment.post(order_url(order, "confirm-installation"))
    assert response.status_code == 200
    assert response.json()["state"] == "installed"


def test_confirm_from_reserved_lifts_the_open_reservations(db):
    ow = make_order_world()
    order = order_in(ow, "reserved")
    assert Reservation.objects.filter(order=order, lifted_at__isnull=True).count() == 1
    order = services.purchase_order_confirm_installation(actor=ow.signatory, order=order)
    assert order.state == "installed"
    assert not Reservation.objects.filter(order=order, lifted_at__isnull=True).exists()
    assert Reservation.objects.get(order=order).lifted_at == order.accepted_at


def test_reserve_again_after_a_lift(db):
    ow = make_order_world()
    order = order_in(ow, "reserved")
    services.purchase_order_lift_reservations(actor=ow.member, order=order)
    order = services.purchase_order_reserve(
        actor=ow.signatory, order=order, reservations=["Toujours pas de DMP"]
    )
    assert order.state == "reserved"
    assert Reservation.objects.filter(order=order, lifted_at__isnull=True).count() == 1
    assert Reservation.objects.filter(order=order).count() == 2
