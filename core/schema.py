"""What the published OpenAPI schema says beyond what drf-spectacular infers from the views.

- `AutoSchema` documents, on every operation, each 4xx it can answer, all in the one error shape
  of api.md (`{"type", "errors": [{"code", "detail", "attr"}]}`; a 400 is always of type
  `validation_error`, another 4xx of type `client_error`), so a client (and the schemathesis run
  of the test suite) can rely on the list of statuses.
- `add_links` (a postprocessing hook) adds OpenAPI links between operations: what a client does
  with the object it has just created or read (create a version of the solution it created, a
  dossier for that version, state its statements, submit it…). schemathesis follows them to
  chain calls (create → act → read).

Which 4xx an operation can answer (`error_statuses`):

- 400 invalid input: an operation with a body, a query string or a path parameter (a control
  character in any of them is refused at the edge), and every write (a programme rule refused);
- 401 no or bad credentials, 403 not allowed: every authenticated operation;
- 404 missing or not visible: an operation with a path parameter, a paginated list (a page
  past the end), an authenticated POST with a body (it may name an object you cannot see);
- 409 the object's state does not allow it (or it conflicts with an existing one): every write;
- 413 body too large, 415 media type refused: every operation with a request body;
- 429 too many failed logins (with `Retry-After`): `auth/token/`.

A request body whose serializer refuses unknown fields (`core.api.StrictSerializerMixin`) is
published with `additionalProperties: false`; free text (and string parameters) with the pattern
of the characters the edge accepts (no control character; no line break in single-line text).
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import force_instance
from rest_framework import serializers
from rest_framework.permissions import AllowAny

from core.api import StrictSerializerMixin, _multi_line

ERROR_DESCRIPTIONS = {
    400: "Invalid input (`validation_error`): `attr` names the field, `code` says what is wrong "
    "(`required`, `invalid`, `unknown_field`, `does_not_exist`… or a programme reason code).",
    401: "Not authenticated: missing, unknown, expired or revoked credentials.",
    403: "Authenticated, but this role or user may not do that.",
    404: "Missing, or not visible to you (the same answer for both); or a page past the end.",
    409: "The object's state does not allow this action, or it conflicts with an existing one.",
    413: "Request body or file too large.",
    415: "Media type (or file type) refused.",
    429: "Too many failed logins: try again after `Retry-After` seconds.",
}
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
TOKEN_PATH_SUFFIX = "/auth/token/"  # noqa: S105 - a path, not a password


# What the edge refuses (core.parsers, core.middleware): any control character but TAB, LF and CR
# in text; in a single-line field (and in the path and the query string), those three too.
TEXT_PATTERN = "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f]*$"
SINGLE_LINE_PATTERN = "^[^\\x00-\\x1f\\x7f-\\x9f]*$"


def _refuse_control_characters(schema: dict, *, single_line: bool) -> None:
    """A free text's schema gets the pattern of the characters the edge accepts."""
    if schema.get("type") != "string" or {"format", "enum", "pattern", "$ref"} & set(schema):
        return
    schema["pattern"] = SINGLE_LINE_PATTERN if single_line else TEXT_PATTERN


class ErrorItemSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable code: a field error or a programme reason code.")
    detail = serializers.CharField(
        help_text="Human-readable, French (or English per Accept-Language)."
    )
    attr = serializers.CharField(allow_null=True, help_text="The field concerned, or null.")


class ValidationErrorSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["validation_error"])
    errors = ErrorItemSerializer(many=True)


class ClientErrorSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["client_error"])
    errors = ErrorItemSerializer(many=True)


def error_statuses(
    *,
    method: str,
    authenticated: bool,
    has_body: bool,
    params: set[str],
    paginated: bool,
    path: str,
) -> list[int]:
    """The 4xx statuses an operation can answer (see the module's docstring)."""
    method = method.upper()
    write = method in WRITE_METHODS
    statuses = set()
    if has_body or params or write:
        statuses.add(400)
    if authenticated:
        statuses |= {401, 403}
    if "path" in params or paginated or (method == "POST" and has_body and authenticated):
        statuses.add(404)
    if write and authenticated:
        statuses.add(409)
    if has_body:
        statuses |= {413, 415}
    if path.endswith(TOKEN_PATH_SUFFIX) and method == "POST":
        statuses.add(429)
    return sorted(statuses)


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's AutoSchema, plus every 4xx of the operation in the error shape, and
    `additionalProperties: false` on the bodies of serializers that refuse unknown fields."""

    def get_filter_backends(self):
        """Filters apply where the view calls `filter_queryset`: DRF's `list` (none of our custom
        actions does), so only `list` documents the filter parameters."""
        action = getattr(self.view, "action", None)
        if action is not None and action != "list":
            return []
        return super().get_filter_backends()

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        # a decimal published as a string: its pattern allows a sign the field refuses
        minimum = getattr(field, "min_value", None)
        if (
            isinstance(field, serializers.DecimalField)
            and minimum is not None
            and minimum >= 0
            and str(schema.get("pattern", "")).startswith("^-?")
        ):
            schema["pattern"] = "^" + schema["pattern"][3:]
        return schema

    def _map_serializer(self, serializer, direction, bypass_extensions=False):
        schema = super()._map_serializer(serializer, direction, bypass_extensions)
        serializer = force_instance(serializer)
        if direction != "request" or schema.get("type") != "object":
            return schema
        strict = isinstance(serializer, StrictSerializerMixin)
        if strict:
            schema["additionalProperties"] = False
        properties = schema.get("properties", {})
        for name, field in getattr(serializer, "fields", {}).items():
            if name not in properties:
                continue
            target = properties[name]
            if isinstance(target.get("items"), dict):  # a list: its items, checked by the parser
                _refuse_control_characters(target["items"], single_line=False)
                child = getattr(field, "child", None)
                if isinstance(child, serializers.CharField) and not child.allow_blank:
                    target["items"].setdefault("minLength", 1)
                continue
            # a strict serializer refuses TAB, LF and CR in its single-line CharFields too
            single_line = (
                strict and isinstance(field, serializers.CharField) and not _multi_line(field)
            )
            _refuse_control_characters(target, single_line=single_line)
        return schema

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        view = self.view
        authenticated = not all(isinstance(p, AllowAny) for p in view.get_permissions())
        statuses = error_statuses(
            method=method,
            authenticated=authenticated,
            has_body="requestBody" in operation,
            params={p["in"] for p in operation.get("parameters", [])},
            paginated=any(p["name"] == "page" for p in operation.get("parameters", [])),
            path=path,
        )
        filters = {p["name"] for p in self._get_filter_parameters()}
        for parameter in operation.get("parameters", []):
            _refuse_control_characters(parameter.get("schema", {}), single_line=True)
            if parameter["in"] == "query" and parameter["name"] in filters:
                parameter["allowEmptyValue"] = True  # `?state=` is no filter (django-filter)
        validation = self.resolve_serializer(ValidationErrorSerializer, "response").ref
        client = self.resolve_serializer(ClientErrorSerializer, "response").ref
        responses = operation["responses"]
        for status in statuses:
            existing = responses.get(str(status), {})
            response = {
                "description": existing.get("description") or ERROR_DESCRIPTIONS[status],
                "content": {
                    "application/json": {"schema": validation if status == 400 else client}
                },
            }
            if status == 429:
                response["headers"] = {
                    "Retry-After": {
                        "required": True,
                        "schema": {"type": "integer", "minimum": 0},
                        "description": "Seconds to wait before the next attempt.",
                    }
                }
            responses[str(status)] = response
        return operation


# --- links ---------------------------------------------------------------------------------------
# (source operationId, status, link name, target operationId, parameters, request body)
API = "/api/v1"
LINKS: list[tuple[str, str, str, str, dict, dict | None]] = [
    # a vendor: solution → version → dossier → statements, evidence → submit
    (
        "solutions_create",
        "201",
        "CreateVersion",
        "solutions_versions_create",
        {"solution_pk": "$response.body#/id"},
        None,
    ),
    (
        "solutions_create",
        "201",
        "GetSolution",
        "solutions_retrieve",
        {"id": "$response.body#/id"},
        None,
    ),
    (
        "solutions_create",
        "201",
        "UpdateSolution",
        "solutions_partial_update",
        {"id": "$response.body#/id"},
        None,
    ),
    (
        "solutions_versions_create",
        "201",
        "CreateDossier",
        "dossiers_create",
        {},
        {"solution_version": "$response.body#/id"},
    ),
    (
        "solutions_versions_create",
        "201",
        "GetVersion",
        "solutions_versions_retrieve",
        {"solution_pk": "$request.path.solution_pk", "id": "$response.body#/id"},
        None,
    ),
    (
        "dossiers_create",
        "201",
        "GetDossier",
        "dossiers_retrieve",
        {"id": "$response.body#/id"},
        None,
    ),
    (
        "dossiers_create",
        "201",
        "ListStatements",
        "dossiers_statements_list",
        {"id": "$response.body#/id"},
        None,
    ),
    (
        "dossiers_create",
        "201",
        "GetMissing",
        "dossiers_missing_list",
        {"id": "$response.body#/id"},
        None,
    ),
    (
        "dossiers_create",
        "201",
        "SubmitDossier",
        "dossiers_submit_create",
        {"id": "$response.body#/id"},
        None,
    ),
    (
        "dossiers_create",
        "201",
        "CommentDossier",
        "dossiers_comments_create",
        {"id": "$response.body#/id"},
        None,
    ),
    (
        "dossiers_missing_list",
        "200",
        "StateMissing",
        "dossiers_statements_update",
        {
            "id": "$request.path.id",
            "requirement_code": "$response.body#/results/0/requirement_code",
        },
        None,
    ),
    (
        "dossiers_statements_list",
        "200",
        "ReadStatement",
        "dossiers_statements_retrieve",
        {
            "id": "$request.path.id",
            "requirement_code": "$response.body#/results/0/requirement_code",
        },
        None,
    ),
    (
        "dossiers_statements_update",
        "200",
        "ReadStatement",
        "dossiers_statements_retrieve",
        {"id": "$request.path.id", "requirement_code": "$request.path.requirement_code"},
        None,
    ),
    (
        "dossiers_statements_update",
        "200",
        "Submit",
        "dossiers_submit_create",
        {"id": "$request.path.id"},
        None,
    ),
    (
        "dossiers_statements_update",
        "200",
        "NextMissing",
        "dossiers_missing_list",
        {"id": "$request.path.id"},
        None,
    ),
    (
        "evidence_create",
        "201",
        "GetEvidence",
        "evidence_retrieve",
        {"id": "$response.body#/id"},
        None,
    ),
    (
        "dossiers_submit_create",
        "200",
        "Withdraw",
        "dossiers_withdraw_create",
        {"id": "$request.path.id"},
        None,
    ),
    (
        "dossiers_submit_create",
        "200",
        "Assign",
        "dossiers_assign_create",
        {"id": "$request.path.id"},
        None,
    ),
    # ANS: the queue → assign → verdicts → decision
    (
        "dossiers_queue_list",
        "200",
        "GetDossier",
        "dossiers_retrieve",
        {"id": "$response.body#/results/0/id"},
        None,
    ),
    (
        "dossiers_queue_list",
        "200",
        "Assign",
        "dossiers_assign_create",
        {"id": "$response.body#/results/0/id"},
        None,
    ),
    (
        "dossiers_assign_create",
        "200",
        "Verdict",
        "dossiers_verdicts_update",
        {"id": "$request.path.id"},
        None,
    ),
    (
        "dossiers_assign_create",
        "200",
        "RequestChanges",
        "dossiers_request_changes_create",
        {"id": "$request.path.id"},
        None,
    ),
    (
        "dossiers_assign_create",
        "200",
        "Approve",
        "dossiers_approve_create",
        {"id": "$request.path.id"},
        None,
    ),
    (
        "dossiers_verdicts_list",
        "200",
        "Verdict",
        "dossiers_verdicts_update",
        {
            "id": "$request.path.id",
            "requirement_code": "$response.body#/results/0/requirement_code",
        },
        None,
    ),
    (
        "dossiers_approve_create",
        "200",
        "GetDossier",
        "dossiers_retrieve",
        {"id": "$request.path.id"},
        None,
    ),
    # orders: create → send → sign → declare → confirm / reserve → lift; payments
    (
        "purchase_orders_create",
        "201",
        "GetOrder",
        "purchase_orders_retrieve",
        {"id": "$response.body#/id"},
        None,
    ),
    (
        "purchase_orders_create",
        "201",
        "SendOrder",
        "purchase_orders_send_create",
        {"id": "$response.body#/id"},
        None,
    ),
    (
        "purchase_orders_create",
        "201",
        "CancelOrder",
        "purchase_orders_cancel_create",
        {"id": "$response.body#/id"},
        None,
    ),
    (
        "purchase_orders_send_create",
        "200",
        "SignOrder",
        "purchase_orders_sign_create",
        {"id": "$request.path.id"},
        None,
    ),
    (
        "purchase_orders_send_create",
        "200",
        "DeclineOrder",
        "purchase_orders_decline_create",
        {"id": "$request.path.id"},
        None,
    ),
    (
        "purchase_orders_sign_create",
        "200",
        "RequestAdvance",
        "payment_requests_create",
        {},
        {"purchase_order": "$request.path.id", "kind": "advance"},
    ),
    (
        "purchase_orders_sign_create",
        "200",
        "DeclareInstallation",
        "purchase_orders_declare_installation_create",
        {"id": "$request.path.id"},
        None,
    ),
    (
        "purchase_orders_sign_create",
        "200",
        "Eligibility",
        "purchase_orders_eligibility_retrieve",
        {"id": "$request.path.id"},
        None,
    ),
    (
        "purchase_orders_declare_installation_create",
        "200",
        "Confirm",
        "purchase_orders_confirm_installation_create",
        {"id": "$request.path.id"},
        None,
    ),
    (
        "purchase_orders_declare_installation_create",
        "200",
        "Reserve",
        "purchase_orders_reserve_create",
        {"id": "$request.path.id"},
        None,
    ),
    (
        "purchase_orders_reserve_create",
        "200",
        "Lift",
        "purchase_orders_lift_reservations_create",
        {"id": "$request.path.id"},
        None,
    ),
    (
        "purchase_orders_confirm_installation_create",
        "200",
        "RequestBalance",
        "payment_requests_create",
        {},
        {"purchase_order": "$request.path.id", "kind": "balance"},
    ),
    (
        "purchase_orders_confirm_installation_create",
        "200",
        "AcceptanceReport",
        "purchase_orders_acceptance_report_retrieve",
        {"id": "$request.path.id"},
        None,
    ),
    (
        "payment_requests_create",
        "201",
        "GetPayment",
        "payment_requests_retrieve",
        {"id": "$response.body#/id"},
        None,
    ),
    (
        "payment_requests_create",
        "201",
        "ApprovePayment",
        "payment_requests_approve_create",
        {"id": "$response.body#/id"},
        None,
    ),
    (
        "payment_requests_create",
        "201",
        "RejectPayment",
        "payment_requests_reject_create",
        {"id": "$response.body#/id"},
        None,
    ),
    (
        "payment_requests_approve_create",
        "200",
        "MarkPaid",
        "payment_requests_mark_paid_create",
        {"id": "$request.path.id"},
        None,
    ),
    ("payment_requests_approve_create", "200", "Batch", "payment_batches_create", {}, None),
    (
        "payment_batches_create",
        "201",
        "GetBatch",
        "payment_batches_retrieve",
        {"id": "$response.body#/id"},
        None,
    ),
    (
        "payment_batches_create",
        "201",
        "ExportCsv",
        "payment_batches_export.csv_retrieve",
        {"id": "$response.body#/id"},
        None,
    ),
    (
        "payment_batches_create",
        "201",
        "ExportXml",
        "payment_batches_export.xml_retrieve",
        {"id": "$response.body#/id"},
        None,
    ),
]


def add_links(result, generator, request, public):
    """drf-spectacular postprocessing hook: the OpenAPI links of `LINKS` (a link whose source or
    target is not in the schema is left out: the schema stays valid whatever the URL conf)."""
    operations = {}
    for path, item in result.get("paths", {}).items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "operationId" in operation:
                operations[operation["operationId"]] = (path, method, operation)
    for source, status, name, target, parameters, body in LINKS:
        if source not in operations or target not in operations:
            continue
        response = operations[source][2]["responses"].get(status)
        if response is None:
            continue
        link = {"operationId": target}
        if parameters:
            link["parameters"] = dict(parameters)
        if body is not None:
            link["requestBody"] = dict(body)
        response.setdefault("links", {})[name] = link
    return result
