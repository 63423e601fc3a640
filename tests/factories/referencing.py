"""Builders for referencing tests: a scheme with a published requirement set, a vendor with a
signatory and a plain member, dossiers in any state through the real services."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.models import Role, User
from referencing_app import services
from referencing_app.models import Dossier, Evidence
from sons.models import Nature, Requirement, RequirementSet, Scheme
from tests.factories.accounts import UserFactory
from tests.factories.sons import SchemeFactory
from tests.factories.vendors import SolutionFactory, SolutionVersionFactory, VendorFactory
from vendors.models import SolutionVersion, Vendor

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def pdf_upload(name: str = "preuve.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def published_scheme(**kwargs) -> Scheme:
    """A scheme with a published set: 2 mandatory general (evidence required), 1 recommended,
    1 mandatory on profile `IAM`."""
    scheme = SchemeFactory(**kwargs)
    rset = RequirementSet.objects.create(scheme=scheme, version=1, published_at=timezone.now())
    for position, (code, nature, profile, evidence) in enumerate(
        [
            ("SC.INS.01", Nature.MANDATORY, "general", True),
            ("SC.DMP.01", Nature.MANDATORY, "general", True),
            ("SC.SEC.09", Nature.RECOMMENDED, "general", True),
            ("DPI.IAM.01", Nature.MANDATORY, "IAM", True),
        ]
    ):
        Requirement.objects.create(
            requirement_set=rset,
            code=code,
            title=f"Exigence {code}",
            statement="Le logiciel DOIT…",
            nature=nature,
            profile=profile,
            evidence_required=evidence,
            position=position,
        )
    return scheme


@dataclass
class World:
    scheme: Scheme
    vendor: Vendor
    version: SolutionVersion
    signatory: User
    member: User
    other_vendor_member: User
    admin: User
    admin2: User
    reviewer: User
    reviewer2: User
    officer: User
    establishment: User


def make_world(**scheme_kwargs) -> World:
    scheme = published_scheme(**scheme_kwargs)
    vendor = VendorFactory()
    version = SolutionVersionFactory(
        solution=SolutionFactory(vendor=vendor, category=scheme.category)
    )
    return World(
        scheme=scheme,
        vendor=vendor,
        version=version,
        signatory=UserFactory(role=Role.VENDOR, vendor=vendor, signatory=True),
        member=UserFactory(role=Role.VENDOR, vendor=vendor),
        other_vendor_member=UserFactory(role=Role.VENDOR, vendor=VendorFactory()),
        admin=UserFactory(role=Role.ANS_ADMIN),
        admin2=UserFactory(role=Role.ANS_ADMIN),
        reviewer=UserFactory(role=Role.REVIEWER),
        reviewer2=UserFactory(role=Role.REVIEWER),
        officer=UserFactory(role=Role.PAYMENT_OFFICER),
        establishment=UserFactory(role=Role.ESTABLISHMENT, signatory=True),
    )


def upload(world: World, name: str = "preuve.pdf") -> Evidence:
    return services.evidence_upload(actor=world.member, upload=pdf_upload(name))


def fill(world: World, dossier: Dossier, *, evidence: bool = True) -> None:
    """A statement with evidence for every applicable mandatory requirement."""
    proof = upload(world) if evidence else None
    for code in ("SC.INS.01", "SC.DMP.01"):
        services.statement_put(
            actor=world.member,
            dossier=dossier,
            requirement_code=code,
            claim="conform",
            justification="Démontré en recette.",
            evidence_ids=[proof.pk] if proof else [],
        )


def dossier_in(world: World, state: str, *, at: dt.datetime | None = None) -> Dossier:
    """A dossier brought to `state` through the real services."""
    dossier = services.dossier_create(
        actor=world.signatory,
        scheme=world.scheme,
        solution_version=world.version,
        charter_accepted=True,
    )
    if state == "draft":
        return dossier
    fill(world, dossier)
    dossier = services.dossier_submit(actor=world.member, dossier=dossier, at=at)
    if state == "submitted":
        return dossier
    if state == "withdrawn":
        return services.dossier_withdraw(actor=world.member, dossier=dossier, reason="test")
    dossier = services.dossier_assign(actor=world.admin, dossier=dossier, reviewer=world.reviewer)
    if state == "in_review":
        return dossier
    if state in ("changes_requested", "abandoned"):
        services.verdict_put(
            actor=world.reviewer,
            dossier=dossier,
            requirement_code="SC.INS.01",
            verdict="non_compliant",
            comment="Trace INSi absente.",
        )
        dossier = services.dossier_request_changes(
            actor=world.reviewer,
            dossier=dossier,
            reason="Compléter",
            requirement_codes=["SC.INS.01"],
            at=at,
        )
        if state == "abandoned":
            from referencing_app.sweeps import sweep_abandon_overdue_dossiers

            sweep_abandon_overdue_dossiers(dossier.changes_due_at + dt.timedelta(seconds=1))
            dossier = Dossier.objects.get(pk=dossier.pk)
        return dossier
    for code in ("SC.INS.01", "SC.DMP.01"):
        services.verdict_put(
            actor=world.reviewer, dossier=dossier, requirement_code=code, verdict="compliant"
        )
    if state == "approved":
        return services.dossier_approve(actor=world.admin2, dossier=dossier)
    if state == "rejected":
        return services.dossier_reject(actor=world.admin2, dossier=dossier, reason="Non recevable")
    raise ValueError(state)
