"""Payment batch exports: CSV for the paying agency's checks, SEPA credit transfer (pain.001)
generated with the `sepaxml` library.

Both carry only what is payable at the instant of the download (`services.batch_payable_requests`:
approved, never already paid, the order still eligible, the vendor enrolled) and pay the IBAN
the paying agency verified at enrolment (`Vendor.enrolled_iban`), never one changed since."""

from __future__ import annotations

import csv
import io

from django.conf import settings
from django.utils import timezone

from core.api import csv_safe
from core.errors import Conflict
from payments.models import PaymentBatch
from payments.services import batch_payable_requests

CSV_FIELDS = [
    "request",
    "kind",
    "amount",
    "purchase_order",
    "scheme",
    "establishment",
    "vendor",
    "vendor_siren",
    "iban",
    "approved_at",
]


def _requests(batch: PaymentBatch) -> list:
    requests = batch_payable_requests(batch)
    if not requests:
        raise Conflict(
            "NOTHING_TO_PAY",
            "Aucune demande de ce lot n'est payable à cet instant (déjà payées, rejetées, ou "
            "devenues inéligibles).",
        )
    return requests


def batch_csv(batch: PaymentBatch) -> str:
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";")
    writer.writerow(CSV_FIELDS)
    for request in _requests(batch):
        order = request.order
        writer.writerow(
            [
                csv_safe(v)
                for v in [
                    request.pk,
                    request.kind,
                    f"{request.amount:.2f}",
                    order.pk,
                    order.scheme.code,
                    order.establishment.name,
                    order.vendor.name,
                    order.vendor.siren,
                    order.vendor.enrolled_iban,
                    timezone.localtime(request.approved_at).isoformat()
                    if request.approved_at
                    else "",
                ]
            ]
        )
    return out.getvalue()


def batch_sepa_xml(batch: PaymentBatch) -> bytes:
    from sepaxml import SepaTransfer

    transfer = SepaTransfer(
        {
            "name": settings.SEPA_DEBTOR_NAME,
            "IBAN": settings.SEPA_DEBTOR_IBAN,
            "BIC": settings.SEPA_DEBTOR_BIC,
            "batch": True,
            "currency": "EUR",
        },
        clean=True,
    )
    for request in _requests(batch):
        order = request.order
        transfer.add_payment(
            {
                "name": order.vendor.name,
                "IBAN": order.vendor.enrolled_iban,
                "amount": int((request.amount * 100).to_integral_value()),
                "execution_date": timezone.localdate(),
                "description": f"SONS {order.scheme.code} {request.get_kind_display()} {str(request.pk)[:8]}",
                "endtoend_id": str(request.pk).replace("-", "")[:35],
            }
        )
    return transfer.export(validate=True)
