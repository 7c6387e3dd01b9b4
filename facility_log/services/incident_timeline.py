"""An incident's timeline: what happened to it, in order, with who and why: created,
submitted, returned, approved, corrected, voided (read from its history), its supplements,
reviews and attachments. Shown on its page and printed in the police PDF."""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from facility_log.models import Attachment, Incident, Review


@dataclass
class TimelineEvent:
    when: datetime
    kind: str
    who: str
    text: str
    attachment: Attachment | None = None


def incident_timeline(
    incident: Incident, attachments: list[Attachment] | None = None
) -> list[TimelineEvent]:
    """Created, submitted, returned, approved, corrected, voided (from the history), plus
    supplements, reviews and attachments, in the order they happened. A review is one line:
    the status change it made is not listed again. People are named as "Full Name (username)".
    `attachments`: the incident's, already read with their `uploaded_by` (else read here)."""
    if attachments is None:
        attachments = incident.attachments.select_related("uploaded_by")
    reviews = list(incident.reviews.select_related("reviewer"))
    events = _status_events(incident, reviews)
    events += [
        TimelineEvent(s.created_at, "supplement", user_label(s.author), f"{s.text} ({s.reason})")
        for s in incident.supplements.select_related("author")
    ]
    events += [
        TimelineEvent(r.created_at, f"review: {r.decision}", user_label(r.reviewer), r.comment)
        for r in reviews
    ]
    events += [
        TimelineEvent(a.uploaded_at, "attachment", user_label(a.uploaded_by), a.original_name, a)
        for a in attachments
    ]
    return sorted(events, key=lambda e: e.when)


def user_label(user) -> str:
    """A person as pages and reports show them: the full name beside the username."""
    if user is None:
        return ""
    name, username = user.get_full_name().strip(), user.get_username()
    return f"{name} ({username})" if name else username


def _status_events(incident: Incident, reviews: list[Review]) -> list[TimelineEvent]:
    # Each review changed the status once (to "returned" or "approved"): that change is the
    # review's own line, so as many changes to its decision are left out here.
    reviewed = Counter(r.decision for r in reviews)
    events, previous = [], None
    for row in incident.history.select_related("history_user").order_by(
        "history_date", "history_id"
    ):
        who = user_label(row.history_user) or row.history_user_name
        why = row.history_change_reason or ""
        if previous is None:
            events.append(TimelineEvent(row.history_date, "created", who, why))
        elif row.status != previous.status:
            if reviewed[row.status] > 0:
                reviewed[row.status] -= 1
            else:
                events.append(TimelineEvent(row.history_date, row.status, who, why))
        elif why.startswith("correction:"):
            events.append(TimelineEvent(row.history_date, "corrected", who, why))
        previous = row
    return events
