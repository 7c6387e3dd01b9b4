"""Building post orders through the real services, for the post order tests."""

import uuid

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from facility_log.models import PostOrder
from facility_log.services import post_orders, shifts

PDF_BYTES = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
GATE_BODY = "Close the gate at **22:00**.\n\n- Deliveries through dock 2\n- Call the manager"


def pdf(name: str = "plan.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


def write(p, *, title: str = "Gate", body: str = GATE_BODY, site=None, actor=None, **extra):
    """A post order at `site` (default site A) written by `actor` (default manager_ab)."""
    return post_orders.create_post_order(
        site or p.site_a,
        actor or p.manager_ab,
        title=title,
        body=body,
        reason="new instructions",
        **extra,
    )


def edit(order: PostOrder, actor, *, body: str, reason: str = "changed procedure"):
    return post_orders.edit_post_order(
        order,
        actor,
        expected_version=order.version,
        title=order.title,
        body=body,
        zone=order.zone,
        reason=reason,
    )


def current_version_ids(site) -> list[int]:
    return list(post_orders.current_versions(site).values_list("pk", flat=True))


def start_acknowledging(p, guard=None, site=None):
    """A shift started now by `guard` (default guard_a), acknowledging what changed."""
    site = site or p.site_a
    shift, _ = shifts.start_shift(
        site,
        guard or p.guard_a,
        client_uuid=uuid.uuid4(),
        started_at=timezone.now(),
        acknowledged_post_orders=current_version_ids(site),
    )
    return shift


def site_a_post_order(p) -> PostOrder:
    """Site A's post order with a file, for the cross-site check (made once)."""
    existing = PostOrder.objects.filter(site=p.site_a, title="Alpha gate secret").first()
    if existing:
        return existing
    return write(p, title="Alpha gate secret", attachments=[pdf()])
