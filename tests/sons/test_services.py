import datetime as dt
from decimal import Decimal

import pytest

from accounts.models import Role
from core.audit import audit_verify
from core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from core.models import AuditEntry
from core.timeutils import end_of_day_paris, start_of_day_paris
from sons import services
from sons.models import Category, EligibleEstablishment, Requirement, RequirementSet, Scheme, Wave
from tests.factories.sons import EligibleEstablishmentFactory, SchemeFactory, WaveFactory, finess

pytestmark = pytest.mark.django_db


def _last_entry() -> AuditEntry:
    return AuditEntry.objects.order_by("-seq").first()


def _scheme_fields(**overrides):
    fields = {
        "code": "MDV-LGC-VA9",
        "wave": WaveFactory(code="VA9", name="Vague 9"),
        "category": Category.objects.get(code="LGC"),
        "submission_opens": start_of_day_paris(dt.date(2026, 1, 5)),
        "submission_closes": end_of_day_paris(dt.date(2027, 1, 29)),
        "order_deadline": end_of_day_paris(dt.date(2027, 3, 31)),
        "installation_deadline": end_of_day_paris(dt.date(2027, 9, 30)),
        "payment_deadline": end_of_day_paris(dt.date(2027, 12, 17)),
        "price_cap": Decimal("2500.00"),
    }
    fields.update(overrides)
    return fields


# --- waves ---------------------------------------------------------------------------------------
def test_wave_create_audits_who_what_and_values(make_user):
    admin = make_user(Role.ANS_ADMIN)
    wave = services.wave_create(actor=admin, code="VA3", name="Vague 3")
    entry = _last_entry()
    assert (entry.actor_id, entry.action, entry.object_id) == (
        admin.pk,
        "wave.create",
        str(wave.pk),
    )
    assert entry.changes == {"code": [None, "VA3"], "name": [None, "Vague 3"]}


def test_wave_update_audits_the_diff_only(make_user):
    admin = make_user(Role.ANS_ADMIN)
    wave = WaveFactory(code="VA3", name="Vague 3")
    services.wave_update(actor=admin, wave=wave, name="Vague 3 (2027)")
    entry = _last_entry()
    assert entry.action == "wave.update"
    assert entry.changes == {"name": ["Vague 3", "Vague 3 (2027)"]}


def test_wave_update_without_change_writes_nothing(make_user):
    wave = WaveFactory(code="VA3", name="Vague 3")
    before = AuditEntry.objects.count()
    services.wave_update(actor=make_user(Role.ANS_ADMIN), wave=wave, name="Vague 3")
    assert AuditEntry.objects.count() == before


def test_wave_code_is_frozen_once_a_scheme_uses_it(make_user):
    scheme = SchemeFactory()
    with pytest.raises(Conflict) as exc:
        services.wave_update(actor=make_user(Role.ANS_ADMIN), wave=scheme.wave, code="VA7")
    assert exc.value.codes == ["WAVE_CODE_FROZEN"]
    assert Wave.objects.filter(code="VA2").exists()


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.PAYMENT_OFFICER, Role.ESTABLISHMENT])
def test_programme_services_refuse_non_admins(make_user, role):
    with pytest.raises(NotAllowed):
        services.wave_create(actor=make_user(role), code="VA3", name="Vague 3")
    assert not Wave.objects.filter(code="VA3").exists()
    assert AuditEntry.objects.count() == 0


def test_system_actor_is_recorded_by_name():
    services.wave_create(actor="load_programme", code="VA3", name="Vague 3")
    entry = _last_entry()
    assert entry.actor_id is None
    assert entry.actor_repr == "système: load_programme"


# --- schemes -------------------------------------------------------------------------------------
def test_scheme_create_infers_sector_names_it_and_audits(make_user):
    admin = make_user(Role.ANS_ADMIN)
    scheme = services.scheme_create(actor=admin, **_scheme_fields())
    assert scheme.sector.code == "MDV"
    assert scheme.name == "Logiciel de gestion de cabinet — Médecins de ville — Vague 9"
    entry = _last_entry()
    assert entry.action == "scheme.create"
    assert entry.actor_id == admin.pk
    assert entry.changes["code"] == [None, "MDV-LGC-VA9"]
    assert entry.changes["price_cap"] == [None, "2500.00"]
    assert entry.changes["sector"] == [None, str(scheme.sector_id)]


def test_scheme_create_refuses_a_sector_that_is_not_the_categorys(make_user):
    hop = Category.objects.get(code="DPI").sector
    with pytest.raises(InvalidInput) as exc:
        services.scheme_create(actor=make_user(Role.ANS_ADMIN), **_scheme_fields(sector=hop))
    assert exc.value.errors[0].code == "SECTOR_MISMATCH"
    assert exc.value.errors[0].attr == "sector"
    assert not Scheme.objects.filter(code="MDV-LGC-VA9").exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("submission_closes", start_of_day_paris(dt.date(2026, 1, 5))),  # = opens: not after
        ("order_deadline", end_of_day_paris(dt.date(2025, 12, 31))),  # before opening
        ("installation_deadline", end_of_day_paris(dt.date(2027, 3, 30))),  # before orders
        ("payment_deadline", end_of_day_paris(dt.date(2027, 9, 29))),  # before installation
    ],
)
def test_scheme_calendar_must_be_in_order(make_user, field, value):
    with pytest.raises(InvalidInput) as exc:
        services.scheme_create(actor=make_user(Role.ANS_ADMIN), **_scheme_fields(**{field: value}))
    assert [(e.code, e.attr) for e in exc.value.errors] == [("CALENDAR_ORDER", field)]


def test_scheme_deadlines_may_be_equal(make_user):
    same = end_of_day_paris(dt.date(2027, 3, 31))
    scheme = services.scheme_create(
        actor=make_user(Role.ANS_ADMIN),
        **_scheme_fields(order_deadline=same, installation_deadline=same, payment_deadline=same),
    )
    assert scheme.installation_deadline == scheme.order_deadline == scheme.payment_deadline


def test_scheme_update_audits_the_changed_fields(make_user):
    admin = make_user(Role.ANS_ADMIN)
    scheme = SchemeFactory()
    new_deadline = end_of_day_paris(dt.date(2036, 10, 29))
    services.scheme_update(
        actor=admin, scheme=scheme, installation_deadline=new_deadline, advance_rate=Decimal("0.4")
    )
    scheme.refresh_from_db()
    assert scheme.installation_deadline == new_deadline
    entry = _last_entry()
    assert entry.action == "scheme.update"
    assert set(entry.changes) == {"installation_deadline", "advance_rate"}
    assert entry.changes["advance_rate"] == ["0.30", "0.4"]


def test_scheme_update_checks_the_calendar_with_stored_values(make_user):
    scheme = SchemeFactory()
    with pytest.raises(InvalidInput) as exc:
        services.scheme_update(
            actor=make_user(Role.ANS_ADMIN),
            scheme=scheme,
            payment_deadline=end_of_day_paris(dt.date(2027, 1, 1)),
        )
    assert exc.value.errors[0].code == "CALENDAR_ORDER"


def test_scheme_identity_is_frozen_once_a_set_is_published(make_user, scheme):
    with pytest.raises(Conflict) as exc:
        services.scheme_update(
            actor=make_user(Role.ANS_ADMIN),
            scheme=scheme,
            category=Category.objects.get(code="PFI"),
        )
    assert "SCHEME_IDENTITY_FROZEN" in exc.value.codes


def test_scheme_category_change_moves_the_sector_before_publication(make_user):
    scheme = SchemeFactory()
    services.scheme_update(
        actor=make_user(Role.ANS_ADMIN), scheme=scheme, category=Category.objects.get(code="SIR")
    )
    scheme.refresh_from_db()
    assert (scheme.category.code, scheme.sector.code) == ("SIR", "RAD")


# --- requirement sets ----------------------------------------------------------------------------
def _content(rset: RequirementSet):
    return [
        (r.code, r.title, [(s.code, [p.code for p in s.proofs.all()]) for s in r.scenarios.all()])
        for r in rset.requirements.order_by("position", "code")
    ]


def test_first_write_creates_a_draft_copy_of_the_published_version(make_user, scheme):
    admin = make_user(Role.ANS_ADMIN)
    v1 = scheme.requirement_sets.get()
    frozen = _content(v1)
    services.requirement_update(
        actor=admin, scheme=scheme, requirement_code="SC.INS.01", title="INSi (v2)"
    )
    draft = scheme.requirement_sets.get(published_at__isnull=True)
    assert draft.version == 2
    assert _content(v1) == frozen  # the published version did not move
    assert [c[0] for c in _content(draft)] == ["SC.INS.01", "SC.DMP.01", "SC.MSS.03"]
    assert _content(draft)[0][1] == "INSi (v2)"
    assert _content(draft)[1][2] == frozen[1][2]  # scenarios and proofs copied
    entry = _last_entry()
    assert entry.action == "requirement.update"
    assert entry.actor_id == admin.pk
    assert entry.changes == {"title": [frozen[0][1], "INSi (v2)"]}
    assert entry.reason == "brouillon v2 créé à partir de la v1"
    assert AuditEntry.objects.count() == 1  # one entry, even with the draft created


def test_second_write_reuses_the_draft(make_user, scheme):
    admin = make_user(Role.ANS_ADMIN)
    services.requirement_update(actor=admin, scheme=scheme, requirement_code="SC.INS.01", title="A")
    services.requirement_delete(actor=admin, scheme=scheme, requirement_code="SC.MSS.03")
    assert scheme.requirement_sets.count() == 2
    draft = scheme.requirement_sets.get(version=2)
    assert [c[0] for c in _content(draft)] == ["SC.INS.01", "SC.DMP.01"]
    entry = _last_entry()
    assert entry.action == "requirement.delete"
    assert entry.changes["code"] == ["SC.MSS.03", None]
    assert entry.reason == "brouillon v2"


def test_requirement_create_with_scenarios_audits_the_whole_content(make_user, scheme):
    admin = make_user(Role.ANS_ADMIN)
    requirement = services.requirement_create(
        actor=admin,
        scheme=scheme,
        code="DPI.DOC.09",
        title="Compte rendu",
        statement="Le logiciel DOIT produire le compte rendu.",
        profile="bloc opératoire",
        scenarios=[
            {
                "code": "DPI.DOC.09.01",
                "description": "Parcours",
                "proofs": [{"code": "DPI.DOC.09.01.01", "nature": "01", "text": "Vidéo"}],
            }
        ],
    )
    assert requirement.requirement_set.version == 2
    assert requirement.position == 4  # appended after the copied ones
    assert [p.code for s in requirement.scenarios.all() for p in s.proofs.all()] == [
        "DPI.DOC.09.01.01"
    ]
    entry = _last_entry()
    assert entry.action == "requirement.create"
    assert entry.changes["profile"] == [None, "bloc opératoire"]
    assert entry.changes["scenarios"][1][0]["proofs"][0]["text"] == "Vidéo"


def test_scenarios_are_replaced_as_a_whole(make_user, scheme):
    admin = make_user(Role.ANS_ADMIN)
    services.requirement_update(
        actor=admin,
        scheme=scheme,
        requirement_code="SC.INS.01",
        scenarios=[{"code": "NEW.01", "description": "Nouveau", "proofs": []}],
    )
    draft = scheme.requirement_sets.get(version=2)
    assert _content(draft)[0][2] == [("NEW.01", [])]


def test_duplicate_scenario_codes_are_refused_and_nothing_is_written(make_user, scheme):
    with pytest.raises(InvalidInput) as exc:
        services.requirement_update(
            actor=make_user(Role.ANS_ADMIN),
            scheme=scheme,
            requirement_code="SC.INS.01",
            scenarios=[
                {"code": "X.01", "description": "a"},
                {"code": "X.01", "description": "b"},
            ],
        )
    assert (exc.value.errors[0].code, exc.value.errors[0].attr) == (
        "DUPLICATE_CODE",
        "scenarios.1.code",
    )
    assert scheme.requirement_sets.count() == 1  # the draft creation rolled back too
    assert AuditEntry.objects.count() == 0


def test_update_of_an_unknown_code_is_404_and_creates_no_draft(make_user, scheme):
    with pytest.raises(NotFound):
        services.requirement_update(
            actor=make_user(Role.ANS_ADMIN), scheme=scheme, requirement_code="NOPE.01", title="x"
        )
    assert scheme.requirement_sets.count() == 1


def test_publish_gives_the_next_version_and_freezes_it(make_user, scheme):
    admin = make_user(Role.ANS_ADMIN)
    services.requirement_update(
        actor=admin, scheme=scheme, requirement_code="SC.INS.01", title="v2"
    )
    published = services.requirement_set_publish(actor=admin, scheme=scheme, notes="INSi")
    assert (published.version, published.is_published, published.notes) == (2, True, "INSi")
    entry = _last_entry()
    assert (entry.action, entry.from_state, entry.to_state) == (
        "requirementset.publish",
        "draft",
        "published",
    )
    assert entry.changes["version"] == [1, 2]
    assert entry.changes["requirements"] == [3, 3]
    # the next write opens version 3, copied from version 2
    services.requirement_update(
        actor=admin, scheme=scheme, requirement_code="SC.INS.01", title="v3"
    )
    assert scheme.requirement_sets.get(version=2).requirements.get(code="SC.INS.01").title == "v2"
    assert scheme.requirement_sets.get(version=3).requirements.get(code="SC.INS.01").title == "v3"


def test_publish_refused_without_draft(make_user, scheme):
    with pytest.raises(Conflict) as exc:
        services.requirement_set_publish(actor=make_user(Role.ANS_ADMIN), scheme=scheme)
    assert exc.value.codes == ["NO_DRAFT"]


def test_publish_refused_for_an_empty_draft(make_user):
    admin = make_user(Role.ANS_ADMIN)
    scheme = SchemeFactory()
    RequirementSet.objects.create(scheme=scheme, version=1)
    with pytest.raises(Conflict) as exc:
        services.requirement_set_publish(actor=admin, scheme=scheme)
    assert exc.value.codes == ["EMPTY_DRAFT"]
    assert not RequirementSet.objects.filter(published_at__isnull=False).exists()


def test_publish_refused_for_a_draft_identical_to_the_current_version(make_user, scheme):
    admin = make_user(Role.ANS_ADMIN)
    services.requirement_update(
        actor=admin, scheme=scheme, requirement_code="SC.INS.01", title="tmp"
    )
    title = scheme.requirement_sets.get(version=1).requirements.get(code="SC.INS.01").title
    services.requirement_update(
        actor=admin, scheme=scheme, requirement_code="SC.INS.01", title=title
    )
    with pytest.raises(Conflict) as exc:
        services.requirement_set_publish(actor=admin, scheme=scheme)
    assert exc.value.codes == ["DRAFT_UNCHANGED"]


def test_discard_drops_the_draft_only(make_user, scheme):
    admin = make_user(Role.ANS_ADMIN)
    services.requirement_delete(actor=admin, scheme=scheme, requirement_code="SC.INS.01")
    services.requirement_set_discard_draft(actor=admin, scheme=scheme)
    assert list(scheme.requirement_sets.values_list("version", flat=True)) == [1]
    assert scheme.requirement_sets.get().requirements.count() == 3
    assert _last_entry().action == "requirementset.discard"


def test_import_replaces_the_draft_content(make_user, scheme):
    admin = make_user(Role.ANS_ADMIN)
    draft = services.requirement_set_import(
        actor=admin,
        scheme=scheme,
        requirements=[
            {"code": "A.01", "title": "A", "statement": "DOIT", "scenarios": []},
            {"code": "B.01", "title": "B", "statement": "DOIT", "nature": "recommended"},
        ],
    )
    assert draft.version == 2
    assert list(draft.requirements.values_list("code", flat=True)) == ["A.01", "B.01"]
    assert _last_entry().changes == {"requirements": [0, 2]}


# --- eligible base -------------------------------------------------------------------------------
def test_eligible_create_normalises_the_identifier_and_audits(make_user):
    admin = make_user(Role.ANS_ADMIN)
    scheme = SchemeFactory()
    ident = finess(12)
    spaced = f"{ident[:2]} {ident[2:5]} {ident[5:]}"
    eligible = services.eligible_establishment_create(
        actor=admin, scheme=scheme, establishment=spaced, max_amount=Decimal("875.00")
    )
    assert eligible.establishment == ident
    entry = _last_entry()
    assert entry.action == "eligibleestablishment.create"
    assert entry.changes["establishment"] == [None, ident]
    assert entry.changes["max_amount"] == [None, "875.00"]


def test_eligible_create_refuses_a_bad_key_and_a_duplicate(make_user):
    admin = make_user(Role.ANS_ADMIN)
    existing = EligibleEstablishmentFactory()
    bad = existing.establishment[:-1] + str((int(existing.establishment[-1]) + 1) % 10)
    with pytest.raises(InvalidInput) as exc:
        services.eligible_establishment_create(
            actor=admin, scheme=existing.scheme, establishment=bad
        )
    assert exc.value.errors[0].code == "invalid_finess"
    with pytest.raises(InvalidInput) as exc:
        services.eligible_establishment_create(
            actor=admin, scheme=existing.scheme, establishment=existing.establishment
        )
    assert exc.value.errors[0].code == "unique"


def test_eligible_update_and_delete_are_audited(make_user):
    admin = make_user(Role.ANS_ADMIN)
    eligible = EligibleEstablishmentFactory(max_amount=Decimal("100.00"))
    services.eligible_establishment_update(
        actor=admin, eligible=eligible, max_amount=Decimal("625.00")
    )
    assert _last_entry().changes == {"max_amount": ["100.00", "625.00"]}
    services.eligible_establishment_delete(actor=admin, eligible=eligible)
    entry = _last_entry()
    assert entry.action == "eligibleestablishment.delete"
    assert entry.object_id == str(eligible.pk)
    assert not EligibleEstablishment.objects.exists()


def test_eligible_import_upserts_and_writes_one_summary_entry(make_user):
    admin = make_user(Role.ANS_ADMIN)
    scheme = SchemeFactory()
    kept = EligibleEstablishmentFactory(scheme=scheme, max_amount=Decimal("625.00"), name="A")
    changed = EligibleEstablishmentFactory(scheme=scheme, max_amount=Decimal("625.00"), name="B")
    data = (
        "establishment;max_amount;name\n"
        f"{kept.establishment};625,00;\n"
        f"{changed.establishment};875,00;Pharmacie B\n"
        f"{finess(900)};750;Pharmacie C\n"
        "123;12;mauvais\n"
    ).encode()
    before = AuditEntry.objects.count()
    report = services.eligible_base_import(actor=admin, scheme=scheme, data=data, source="b.csv")
    assert (report.created, report.updated, report.unchanged, report.rejected) == (1, 1, 1, 1)
    assert [(e.line, e.attr) for e in report.errors] == [(5, "establishment")]
    changed.refresh_from_db()
    assert (changed.max_amount, changed.name) == (Decimal("875.00"), "Pharmacie B")
    kept.refresh_from_db()
    assert kept.name == "A"  # an empty name keeps the stored one
    assert AuditEntry.objects.count() == before + 1
    entry = _last_entry()
    assert (entry.action, entry.object_id, entry.reason) == (
        "eligibleestablishment.import",
        str(scheme.pk),
        "b.csv",
    )
    assert entry.changes["created"] == 1
    assert entry.changes["rejected_lines"] == [5]


def test_every_service_keeps_the_audit_chain_intact(make_user, scheme):
    admin = make_user(Role.ANS_ADMIN)
    services.requirement_update(actor=admin, scheme=scheme, requirement_code="SC.INS.01", title="x")
    services.requirement_set_publish(actor=admin, scheme=scheme)
    services.eligible_establishment_create(actor=admin, scheme=scheme, establishment=finess(3))
    assert audit_verify().ok
    assert Requirement.objects.filter(requirement_set__scheme=scheme).count() == 6
