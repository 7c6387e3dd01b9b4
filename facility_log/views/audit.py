"""The auditor's page: the ledger's state, checked on demand."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from facility_log.models import Disclosure, RecordView
from facility_log.scoping import AUDIT_ROLES, scoped, sites_for
from facility_log.services.ledger import ledger_head
from facility_log.services.verify import verify_audit


def audit_overview(request):
    """Ledger head, on request a full verification, and the latest disclosures and record
    views of the sites the user audits (auditors and managers)."""
    if not sites_for(request.user, AUDIT_ROLES).exists():
        raise PermissionDenied("The audit page is for auditors and managers.")
    result = verify_audit() if request.method == "POST" else None
    seq, head = result.head if result else ledger_head()
    return render(
        request,
        "facility_log/audit/overview.html",
        {
            "result": result,
            "seq": seq,
            "head": head,
            "problems": result.problems[:50] if result else [],
            "disclosures": scoped(Disclosure.objects.all(), request.user, AUDIT_ROLES)[:50],
            "views": scoped(RecordView.objects.all(), request.user, AUDIT_ROLES)[:50],
        },
    )
