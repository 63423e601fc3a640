"""Reads of the referencing app: visibility per role, queues, the catalogue."""

from __future__ import annotations

from django.conf import settings
from django.db.models import (
    BooleanField,
    Case,
    Exists,
    ExpressionWrapper,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)

from accounts.models import Role, User
from core.selectors import get_visible
from referencing_app import rules
from referencing_app.models import (
    ChangeRequest,
    Comment,
    Dossier,
    DossierRevision,
    DossierState,
    Evidence,
    Referencing,
    ReferencingState,
    Statement,
    Verdict,
    VerdictRecord,
)
from sons.models import Requirement

ANS_ROLES = (Role.ANS_ADMIN, Role.REVIEWER)


def is_ans(user: User) -> bool:
    return user.is_authenticated and user.has_role(*ANS_ROLES)


def is_vendor_member(user: User, vendor_id) -> bool:
    return user.is_authenticated and user.role == Role.VENDOR and user.vendor_id == vendor_id


# --- dossiers -------------------------------------------------------------------------------------
def dossier_queryset() -> QuerySet[Dossier]:
    return Dossier.objects.select_related(
        "scheme",
        "scheme__category",
        "scheme__wave",
        "solution_version__solution",
        "vendor",
        "requirement_set",
        "reviewer",
        "referencing",
    )


def dossier_list_for_user(user: User) -> QuerySet[Dossier]:
    """Vendors see their own; ANS sees every dossier (drafts too, to help vendors)."""
    qs = dossier_queryset()
    if is_ans(user):
        return qs
    if user.role == Role.VENDOR and user.vendor_id:
        return qs.filter(vendor_id=user.vendor_id)
    return qs.none()


def dossier_get_for_user(user: User, dossier_id) -> Dossier:
    return get_visible(dossier_list_for_user(user), dossier_id)


def reviewer_queue(user: User) -> QuerySet[Dossier]:
    """Dossiers waiting for instruction: complete first, then first-in first-out.

    A reviewer sees what is assigned to them (in review); ANS admins see everything submitted
    and waiting for assignment too."""
    qs = dossier_queryset().filter(state__in=[DossierState.SUBMITTED, DossierState.IN_REVIEW])
    if not user.is_ans_admin:
        qs = qs.filter(reviewer=user, state=DossierState.IN_REVIEW)
    return qs.annotate(
        completeness=Case(
            When(complete=True, then=Value(0)), default=Value(1), output_field=IntegerField()
        )
    ).order_by("completeness", "complete_deposit_at", "last_submitted_at", "id")


# --- four-eyes on decisions -------------------------------------------------------------------------
def instruction_part_q(user: User) -> Q:
    """The dossiers `user` took part in instructing: assigned to them now, or where they ever
    gave a verdict (any revision, even one overwritten since) or requested changes. The one
    definition of the four-eyes rule on decisions, for Python checks and querysets alike."""
    return (
        Q(reviewer_id=user.pk)
        | Q(Exists(VerdictRecord.objects.filter(dossier_id=OuterRef("pk"), given_by_id=user.pk)))
        | Q(
            Exists(ChangeRequest.objects.filter(dossier_id=OuterRef("pk"), requested_by_id=user.pk))
        )
    )


def _part_attribute(user: User) -> str:
    return f"took_part_{user.pk.hex}"


def with_instruction_part(qs: QuerySet[Dossier], user: User) -> QuerySet[Dossier]:
    """`qs` with, per dossier, whether `user` took part in its instruction (one query for a
    whole list, instead of one per row when its `actions` are computed). Only ANS admins
    decide, so only their lists need it."""
    if not user.is_ans_admin:
        return qs
    return qs.annotate(
        **{_part_attribute(user): ExpressionWrapper(instruction_part_q(user), BooleanField())}
    )


def took_part_in_instruction(dossier: Dossier, user: User) -> bool:
    """Whether `user` took part in instructing `dossier` (see `instruction_part_q`). Uses what
    `with_instruction_part` read for this very user, else asks the database."""
    if dossier.reviewer_id == user.pk:
        return True
    known = getattr(dossier, _part_attribute(user), None)
    if known is not None:
        return bool(known)
    return Dossier.objects.filter(pk=dossier.pk).filter(instruction_part_q(user)).exists()


def four_eyes_excludes(dossier: Dossier, user: User) -> bool:
    """Whether the four-eyes rule forbids `user` to approve or reject `dossier`: the assigned
    reviewer never decides (api.md); with `DECISION_FOUR_EYES` (the default), no one who took
    part in the instruction does. Used by the services, the API's `actions` and the portal."""
    if dossier.reviewer_id == user.pk:
        return True
    return settings.DECISION_FOUR_EYES and took_part_in_instruction(dossier, user)


def verdict_history(dossier: Dossier, requirement_code: str = "") -> QuerySet[VerdictRecord]:
    """Every verdict given on `dossier`, oldest first (ANS only: it names the instructors)."""
    qs = VerdictRecord.objects.filter(dossier=dossier).select_related("requirement", "given_by")
    if requirement_code:
        qs = qs.filter(requirement__code=requirement_code)
    return qs.order_by("given_at", "created_at")


def requirements_of(dossier: Dossier) -> list[Requirement]:
    return list(
        Requirement.objects.filter(requirement_set_id=dossier.requirement_set_id).order_by(
            "position", "code"
        )
    )


def statements_by_requirement(dossier: Dossier) -> dict:
    statements = (
        Statement.objects.filter(dossier=dossier)
        .prefetch_related(
            Prefetch("evidence", queryset=Evidence.objects.only("id", "sha256", "filename"))
        )
        .select_related("requirement")
    )
    result = {}
    for statement in statements:
        statement.evidence_ids = [e.pk for e in statement.evidence.all()]
        result[statement.requirement_id] = statement
    return result


def dossier_missing(dossier: Dossier) -> list[rules.Missing]:
    """What the dossier still lacks before a (complete) submission."""
    return rules.missing_for_submission(
        requirements_of(dossier), statements_by_requirement(dossier), dossier.claimed_profiles
    )


def verdicts_by_requirement(dossier: Dossier) -> dict:
    return {
        v.requirement_id: v
        for v in Verdict.objects.filter(dossier=dossier).select_related("requirement")
    }


def revision_list(dossier: Dossier) -> QuerySet[DossierRevision]:
    return (
        DossierRevision.objects.filter(dossier=dossier)
        .select_related("submitted_by")
        .order_by("number")
    )


def revision_changes(previous: dict | None, current: dict) -> dict:
    """What changed between two deposits, per requirement code: added, removed, modified fields."""
    before = (previous or {}).get("statements", {})
    after = current.get("statements", {})
    changes = {}
    for code in sorted(set(before) | set(after)):
        old, new = before.get(code), after.get(code)
        if old == new:
            continue
        if old is None:
            changes[code] = {"change": "added", "after": new}
        elif new is None:
            changes[code] = {"change": "removed", "before": old}
        else:
            fields = {
                k: {"before": old.get(k), "after": new.get(k)}
                for k in new
                if old.get(k) != new.get(k)
            }
            changes[code] = {"change": "modified", "fields": fields}
    if (previous or {}).get("claimed_profiles") != current.get("claimed_profiles"):
        changes["_claimed_profiles"] = {
            "change": "modified",
            "fields": {
                "claimed_profiles": {
                    "before": (previous or {}).get("claimed_profiles"),
                    "after": current.get("claimed_profiles"),
                }
            },
        }
    return changes


def comment_list_for_user(user: User, dossier: Dossier) -> QuerySet[Comment]:
    qs = Comment.objects.filter(dossier=dossier).select_related("author").order_by("created_at")
    if not is_ans(user):
        qs = qs.filter(internal=False)
    return qs


# --- evidence ---------------------------------------------------------------------------------
def evidence_list_for_user(user: User) -> QuerySet[Evidence]:
    qs = Evidence.objects.select_related("vendor")
    if is_ans(user):
        return qs
    if user.role == Role.VENDOR and user.vendor_id:
        return qs.filter(vendor_id=user.vendor_id)
    return qs.none()


def evidence_get_for_user(user: User, evidence_id) -> Evidence:
    return get_visible(evidence_list_for_user(user), evidence_id)


# --- referencings and catalogue -----------------------------------------------------------------
def referencing_queryset() -> QuerySet[Referencing]:
    return Referencing.objects.select_related(
        "scheme",
        "scheme__category",
        "scheme__wave",
        "scheme__sector",
        "vendor",
        "solution_version__solution",
    )


def referencing_list_for_user(user: User) -> QuerySet[Referencing]:
    qs = referencing_queryset()
    if user.has_role(Role.ANS_ADMIN, Role.REVIEWER, Role.PAYMENT_OFFICER):
        return qs
    if user.role == Role.VENDOR and user.vendor_id:
        return qs.filter(vendor_id=user.vendor_id)
    if user.role == Role.ESTABLISHMENT:
        return qs.filter(state=ReferencingState.ACTIVE)
    return qs.none()


def referencing_get_for_user(user: User, referencing_id) -> Referencing:
    return get_visible(referencing_list_for_user(user), referencing_id)


def catalogue(
    *, scheme: str = "", category: str = "", wave: str = "", vendor: str = "", q: str = ""
) -> QuerySet[Referencing]:
    """Active referencings only, for everyone, in reference order, filtered.

    Narrow on purpose (only the joins the filters need): a page is cut on this query, then its
    public rows are read with `catalogue_entries` (see docs/benchmarks.md, "Public catalogue").
    `vendor` is the vendor's id, SIREN or part of its name; `q` searches the solution name, the
    vendor name and the reference, ignoring case."""
    import contextlib
    import uuid

    from vendors.models import SolutionVersion, Vendor

    qs = Referencing.objects.filter(state=ReferencingState.ACTIVE).order_by("reference")
    if scheme:
        qs = qs.filter(scheme__code=scheme)
    if category:
        qs = qs.filter(scheme__category__code=category)
    if wave:
        qs = qs.filter(scheme__wave__code=wave)
    if vendor:
        match = Q(siren=vendor) | Q(name__icontains=vendor)
        with contextlib.suppress(ValueError):
            match |= Q(pk=uuid.UUID(vendor))
        qs = qs.filter(vendor__in=Vendor.objects.filter(match).values("pk"))
    if q:
        # Subqueries on the small tables cost half the joins an OR of ILIKEs would need.
        qs = qs.filter(
            Q(
                solution_version__in=SolutionVersion.objects.filter(
                    solution__name__icontains=q
                ).values("pk")
            )
            | Q(vendor__in=Vendor.objects.filter(name__icontains=q).values("pk"))
            | Q(reference__icontains=q)
        )
    return qs


CATALOGUE_ENTRY_COLUMNS = {  # key of the public row: where it comes from
    "id": "id",
    "reference": "reference",
    "state": "state",
    "valid_from": "valid_from",
    "valid_until": "valid_until",
    "vendor": "vendor_id",
    "vendor_name": "vendor__name",
    "vendor_siren": "vendor__siren",
    "solution": "solution_version__solution__name",
    "solution_version": "solution_version_id",
    "version": "solution_version__number",
}


_scheme_codes_cache: dict = {"expires": 0.0, "codes": {}}


def _scheme_codes(*, refresh: bool = False) -> dict:
    """{scheme id: its public codes}, from the per-process cache unless it expired or
    `refresh` (a row names a scheme it does not know)."""
    import time

    from django.conf import settings

    from sons.models import Scheme

    cache = _scheme_codes_cache
    if refresh or time.monotonic() >= cache["expires"]:
        cache["codes"] = {
            pk: {"scheme": code, "category": category, "sector": sector, "wave": wave}
            for pk, code, category, sector, wave in Scheme.objects.values_list(
                "id", "code", "category__code", "sector__code", "wave__code"
            )
        }
        cache["expires"] = time.monotonic() + settings.CATALOGUE_SCHEME_CODES_TTL
    return cache["codes"]


def forget_scheme_codes(**_kwargs) -> None:
    """Receiver of the saves and deletions of schemes, categories, sectors and waves."""
    _scheme_codes_cache["expires"] = 0.0


def catalogue_entries(referencings: QuerySet[Referencing], *, stream: bool = False):
    """The public rows (dicts, keyed like `CatalogueEntrySerializer`) of `referencings`, in
    their order. One query whatever the number of rows (the referencings with their version,
    solution and vendor: four tables, planning an eight-table join cost more than running it),
    plus one for the schemes' codes when this process has not read them in the last
    `CATALOGUE_SCHEME_CODES_TTL` seconds (a save in this process forgets them at once) or a
    row names a scheme it does not know. `stream` reads the rows in chunks (exports)."""
    keys = tuple(CATALOGUE_ENTRY_COLUMNS)
    rows = referencings.values_list(*CATALOGUE_ENTRY_COLUMNS.values(), "scheme_id")
    schemes = _scheme_codes()
    for *values, scheme_id in rows.iterator(chunk_size=2000) if stream else rows:
        if scheme_id not in schemes:  # a scheme created since the codes were read
            schemes = _scheme_codes(refresh=True)
        row = dict(zip(keys, values, strict=True))
        row.update(schemes[scheme_id])
        yield row
