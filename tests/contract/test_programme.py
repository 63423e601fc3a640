"""Conventions, accounts and the programme's rules: token, schema, users, waves, categories,
schemes, requirements and requirement sets, the eligible base."""

from tests.contract.conftest import (
    PASSWORD,
    REQUIREMENTS,
    Api,
    assert_fields,
    assert_instant,
    assert_money,
    assert_uuid,
    create_user,
    make_establishment,
    make_scheme,
    new_finess,
    published_schema,
    results,
    scheme_body,
    unique,
)


def test_token_then_authenticated_calls(world):
    token = world.anonymous.post(
        "auth/token/", {"username": world.reviewer.user["username"], "password": PASSWORD}
    ).json()
    assert list(token) == ["token"]
    me = Api(world.server, token["token"]).get("auth/me/").json()
    assert me["role"] == "reviewer"


def test_token_refusals(world):
    world.anonymous.refused(
        "POST",
        "auth/token/",
        400,
        attr="password",
        json={"username": "contrat.admin"},
    )
    body = world.anonymous.refused(
        "POST",
        "auth/token/",
        400,
        "invalid_credentials",
        json={"username": world.member.user["username"], "password": "pas-le-bon"},
    )
    assert body["errors"][0]["attr"] is None
    world.anonymous.refused("GET", "users/", 401)
    Api(world.server, "pas-un-jeton").refused("GET", "vendors/", 401)


def test_schema_and_docs_are_public(world):
    schema = published_schema(world.anonymous)
    assert schema["openapi"].startswith("3.")
    docs = world.anonymous.get("docs/")
    assert "text/html" in docs.headers["Content-Type"]
    assert "swagger" in docs.text.lower()


def test_users(world, admin):
    rows = results(admin.get("users/"))
    assert {"ans_admin", "reviewer", "payment_officer", "vendor", "establishment"} <= {
        u["role"] for u in rows
    }
    signatory = admin.get(f"users/{world.signatory.user['id']}/").json()
    assert_fields(signatory, "username", "email", "role", "vendor", "establishment", "signatory")
    assert signatory["establishment"] == world.establishment["id"]
    assert signatory["signatory"] is True
    assert signatory["vendor"] is None
    assert "password" not in signatory
    # A member without signature rights cannot sign, but is an establishment user all the same.
    assert world.member.user["signatory"] is False
    assert world.member.user["establishment"] == world.establishment["id"]


def test_users_refusals(world, admin):
    world.vendor_api.refused("GET", "users/", 403, "permission_denied")
    world.reviewer.refused(
        "POST", "users/", 403, json={"username": "x", "password": PASSWORD, "role": "vendor"}
    )
    admin.refused("GET", f"users/{world.vendor['id']}/", 404, "not_found")
    # An establishment user needs an establishment; a vendor cannot carry one.
    body = admin.refused(
        "POST",
        "users/",
        400,
        "required",
        "establishment",
        json={"username": unique("sans.etab."), "password": PASSWORD, "role": "establishment"},
        headers={"Accept-Language": "en"},
    )
    assert "must belong to an establishment" in body["errors"][0]["detail"]
    admin.refused(
        "POST",
        "users/",
        400,
        json={
            "username": unique("mauvais.melange."),
            "password": PASSWORD,
            "role": "vendor",
            "vendor": world.vendor["id"],
            "establishment": world.establishment["id"],
        },
    )
    admin.refused(
        "POST",
        "users/",
        400,
        "unknown_field",
        "nickname",
        json={"username": unique("x"), "password": PASSWORD, "role": "reviewer", "nickname": "x"},
    )


def test_waves_and_categories(world, admin):
    waves = results(world.vendor_api.get("waves/"))
    wave = next(w for w in waves if w["code"] == world.wave)
    assert_fields(wave, "id", "code", "name")
    categories = results(world.member.get("categories/"))
    assert {"DPI", "PFI", "RI", "LGC", "SIR", "SGL", "LGO", "MSS"} <= {
        c["code"] for c in categories
    }
    for category in categories:
        assert_fields(category, "id", "code", "name", "sector")


def test_waves_and_categories_refusals(world, admin):
    world.vendor_api.refused("POST", "waves/", 403, json={"code": "VA9", "name": "x"})
    admin.refused("POST", "waves/", 400, attr="code", json={"code": "pas un code", "name": "x"})
    world.anonymous.refused("GET", "categories/", 401)
    world.anonymous.refused("GET", "waves/", 401)


SCHEME_FIELDS = (
    "code",
    "wave",
    "sector",
    "category",
    "submission_opens",
    "submission_closes",
    "order_deadline",
    "installation_deadline",
    "payment_deadline",
    "price_cap",
    "advance_rate",
    "changes_due_days",
    "pre_referencing_days",
    "tacit_acceptance_days",
    "acceptance",
    "uses_eligible_base",
)


def test_schemes(world, admin):
    scheme = world.signatory.get(f"schemes/{world.scheme}/").json()
    assert_fields(scheme, "id", *SCHEME_FIELDS)
    assert scheme["wave"] == world.wave
    assert scheme["category"] == "DPI"
    assert scheme["sector"] == "HOP"
    assert scheme["advance_rate"] == "0.30"
    assert assert_money(scheme["price_cap"]) == 100000
    assert scheme["pre_referencing_days"] == 120
    assert scheme["tacit_acceptance_days"] is None
    assert scheme["acceptance"] == "VA"
    for name in SCHEME_FIELDS[4:9]:
        assert_instant(scheme[name])
    # A plain date is the end of that day in Paris.
    assert scheme["order_deadline"].endswith(("23:59:59.999999+01:00", "23:59:59.999999+02:00"))
    listed = results(world.vendor_api.get("schemes/", params={"wave": world.wave}))
    assert world.scheme in {s["code"] for s in listed}


def test_schemes_refusals(world, admin):
    world.vendor_api.refused("POST", "schemes/", 403, json=scheme_body(unique("CT-X-"), world.wave))
    admin.refused(
        "POST",
        "schemes/",
        400,
        attr="order_deadline",
        json=scheme_body(unique("CT-X-"), world.wave, order_deadline="2026-12-31T12:00:00"),
    )
    admin.refused("GET", "schemes/PAS-UN-DISPOSITIF/", 404, "not_found")
    world.anonymous.refused("GET", "schemes/", 401)


def test_requirements_and_requirement_sets(world, admin):
    from tests.contract.test_dossiers import draft

    scheme = make_scheme(admin, world.wave)
    url = f"schemes/{scheme}/"
    requirements = results(world.vendor_api.get(f"{url}requirements/"))
    assert [r["code"] for r in requirements] == [r[0] for r in REQUIREMENTS]
    for requirement in requirements:
        assert_fields(
            requirement, "code", "title", "statement", "nature", "profile", "evidence_required"
        )
    assert {r["nature"] for r in requirements} == {"mandatory", "recommended"}
    sets = results(world.vendor_api.get(f"{url}requirement-sets/"))
    assert [(s["version"], s["state"]) for s in sets] == [(1, "published")]
    assert_instant(sets[0]["published_at"])
    before = draft(world, scheme=scheme)
    assert before["requirement_set_version"] == 1
    # Written since the last version, a requirement is published as version 2.
    admin.post(
        f"{url}requirements/",
        {
            "code": "CT.NEW.05",
            "title": "Nouvelle exigence",
            "statement": "Le logiciel PEUT…",
            "nature": "recommended",
            "profile": "general",
            "evidence_required": False,
        },
        expect=201,
    )
    assert "CT.NEW.05" not in {
        r["code"] for r in results(world.vendor_api.get(f"{url}requirements/"))
    }
    published = admin.post(f"{url}requirement-sets/publish/", {}).json()
    assert published["version"] == 2
    assert published["state"] == "published"
    sets = results(admin.get(f"{url}requirement-sets/"))
    assert [s["version"] for s in sets if s["state"] == "published"] == [2, 1]
    assert "CT.NEW.05" in {r["code"] for r in results(world.vendor_api.get(f"{url}requirements/"))}
    assert admin.get(url).json()["current_requirement_set_version"] == 2
    # A dossier keeps the version current at its creation; a new one gets the new version.
    assert world.vendor_api.get(f"dossiers/{before['id']}/").json()["requirement_set_version"] == 1
    world.vendor_api.refused(
        "PUT", f"dossiers/{before['id']}/statements/CT.NEW.05/", 404, json={"claim": "conform"}
    )
    assert draft(world, scheme=scheme)["requirement_set_version"] == 2


def test_requirements_refusals(world, admin):
    url = f"schemes/{world.scheme}/"
    world.vendor_api.refused(
        "POST",
        f"{url}requirements/",
        403,
        json={"code": "CT.X.01", "title": "x", "statement": "x"},
    )
    admin.refused(
        "POST",
        f"{url}requirements/",
        400,
        attr="code",
        json={"code": "pas un code", "title": "x", "statement": "x"},
    )
    world.vendor_api.refused("POST", f"{url}requirement-sets/publish/", 403, json={})
    # Nothing written since the last version: nothing to publish.
    fresh = make_scheme(admin, world.wave)
    admin.refused("POST", f"schemes/{fresh}/requirement-sets/publish/", 409, json={})
    admin.refused("GET", "schemes/PAS-UN-DISPOSITIF/requirement-sets/", 404)
    admin.refused("GET", "schemes/PAS-UN-DISPOSITIF/requirements/", 404)


def test_eligible_establishments(world, admin):
    code = make_scheme(admin, world.wave, uses_eligible_base=True)
    establishment = make_establishment(admin)
    row = admin.post(
        f"schemes/{code}/eligible-establishments/",
        {"establishment": establishment["finess"], "max_amount": "42000.00"},
        expect=201,
    ).json()
    assert_fields(row, "id", "establishment", "max_amount")
    assert_uuid(row["id"])
    assert row["establishment"] == establishment["finess"]
    assert row["max_amount"] == "42000.00"
    rows = results(world.officer1.get(f"schemes/{code}/eligible-establishments/"))
    assert [r["establishment"] for r in rows] == [establishment["finess"]]


def test_eligible_establishments_refusals(world, admin):
    url = f"schemes/{world.scheme}/eligible-establishments/"
    world.vendor_api.refused("GET", url, 403)
    world.officer1.refused("POST", url, 403, json={"establishment": new_finess()})
    admin.refused(
        "POST", url, 400, attr="establishment", json={"establishment": "123", "max_amount": "1.00"}
    )
    admin.refused(
        "POST",
        url,
        400,
        attr="max_amount",
        json={"establishment": new_finess(), "max_amount": "-5"},
    )


def test_a_new_account_of_every_role(world, admin):
    for role in ("ans_admin", "reviewer", "payment_officer"):
        api = create_user(admin, world.server, role)
        assert api.user["role"] == role


def test_every_4xx_has_the_one_error_shape(world):
    from tests.contract.conftest import assert_error

    api = world.vendor_api
    assert_error(api.call("GET", "pas-une-ressource/"), 404, "not_found")
    assert_error(api.call("DELETE", f"dossiers/{world.vendor['id']}/"), 405)
    assert_error(
        api.call("POST", "solutions/", data="nom=x", headers={"Content-Type": "text/plain"}),
        415,
    )
    assert_error(
        api.call(
            "POST", "solutions/", data="{pas du json", headers={"Content-Type": "application/json"}
        ),
        400,
    )
    assert_error(world.anonymous.call("GET", "dossiers/"), 401)
