"""An incident's timeline: what happened to it, in order, with who and why: created,
submitted, returned, approved, corrected, voided (read from its history), its supplements,
reviews and attachments. Shown on its page and printed in the police PDF."""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from facility_log.models import Attachment, Incident, Review, Supplement
from facility_log.services.incident_page import ID_SENTINEL
from facility_log.services.precompiled import PrecompiledQuery, Slot
from facility_log.services.prepared import PreparedQuery


@dataclass
class TimelineEvent:
    when: datetime
    kind: str
    who: str
    text: str
    attachment: Attachment | None = None


def incident_timeline(
    incident: Incident,
    attachments: list[Attachment] | None = None,
    read: dict[str, list[tuple]] | None = None,
) -> list[TimelineEvent]:
    """Created, submitted, returned, approved, corrected, voided (from the history), plus
    supplements, reviews and attachments, in the order they happened. A review is one line:
    the status change it made is not listed again. People are named as "Full Name (username)".
    `attachments`: the incident's, already read with their `uploaded_by` (else read here).
    `read`: the rows of `TIMELINE_READS` by name, already read as tuples (else read here)."""
    if attachments is None:
        attachments = incident.attachments.select_related("uploaded_by")
    if read is None:
        read = {name: _tuples(query, incident) for name, query in TIMELINE_READS.items()}
    # Values, not model instances: a line needs a few columns of each row and of its person.
    reviews = read["reviews"]
    events = _status_events(read["history"], [decision for _when, decision, *_rest in reviews])
    events += [
        TimelineEvent(when, "supplement", _label(*names), f"{text} ({reason})")
        for when, text, reason, *names in read["supplements"]
    ]
    events += [
        TimelineEvent(when, f"review: {decision}", _label(*names), comment)
        for when, decision, comment, *names in reviews
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


def _names(relation: str) -> list[str]:
    return [f"{relation}__first_name", f"{relation}__last_name", f"{relation}__username"]


def _label(first_name, last_name, username) -> str:
    """`user_label` from the columns `_names` reads (all None when there is no user)."""
    if username is None:
        return ""
    name = f"{first_name} {last_name}".strip()  # what User.get_full_name() gives
    return f"{name} ({username})" if name else username


def _of_incident(model, *columns: str, order=None) -> PreparedQuery:
    """`columns` of `model`'s rows of one incident, compiled once per process."""
    key = "id" if model is HistoricalIncident else "incident_id"
    field = "id" if model is HistoricalIncident else "incident"

    def build(_key, incident_id):
        rows = model.objects.filter(**{key: incident_id})
        return (rows.order_by(*order) if order else rows).values(*columns)

    return PreparedQuery(build, {"incident_id": Slot(ID_SENTINEL, model._meta.get_field(field))})


def _tuples(query: PrecompiledQuery, incident: Incident) -> list[tuple]:
    return [tuple(row.values()) for row in query.rows(None, incident_id=incident.pk)]


HistoricalIncident = Incident.history.model
_REVIEWS = _of_incident(Review, "created_at", "decision", "comment", *_names("reviewer"))
_SUPPLEMENTS = _of_incident(Supplement, "created_at", "text", "reason", *_names("author"))
_HISTORY = _of_incident(
    HistoricalIncident,
    "history_date",
    "status",
    "history_change_reason",
    "history_user_name",
    *_names("history_user"),
    order=("history_date", "history_id"),
)
# What a timeline reads of one incident (slot `incident_id`, key None), by name.
TIMELINE_READS = {"reviews": _REVIEWS, "history": _HISTORY, "supplements": _SUPPLEMENTS}


def _status_events(history: list[tuple], decisions: list[str]) -> list[TimelineEvent]:
    # Each review changed the status once (to "returned" or "approved"): that change is the
    # review's own line, so as many changes to its decision are left out here.
    reviewed = Counter(decisions)
    events, previous, first = [], None, True
    for when, status, reason, user_name, *names in history:
        who = _label(*names) or user_name
        why = reason or ""
        if first:
            events.append(TimelineEvent(when, "created", who, why))
        elif status != previous:
            if reviewed[status] > 0:
                reviewed[status] -= 1
            else:
                events.append(TimelineEvent(when, status, who, why))
        elif why.startswith("correction:"):
            events.append(TimelineEvent(when, "corrected", who, why))
        previous, first = status, False
    return events
