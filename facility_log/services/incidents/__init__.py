"""Incidents: reporting, the review workflow, supplements, corrections and attachments.

Guards write, supervisors review, managers close. A draft is edited freely (each edit names
the version it was made on); after submission nothing is edited in place: additions are
supplements, a field correction needs a reason, and nothing is deleted.

    draft ──submit──▶ submitted ──approve──▶ approved ──close──▶ closed
                         │  ▲
                  return │  │ submit (after a supplement or correction)
                         ▼  │
                       returned            any open state ──void (reason)──▶ void

One module per step: `categories` (the default list), `rules` (field sets, conflicts and the
guards every step shares), `drafts` (create and edit), `workflow` (submit, review, close,
void), `additions` (corrections, supplements, attachments after submission) and `search`
(what a user may see, filters, the review queue). Everything is re-exported here, so
`from facility_log.services import incidents` keeps working.
"""

from facility_log.services.incident_timeline import (  # noqa: F401 (part of this API)
    TimelineEvent,
    incident_timeline,
    user_label,
)
from facility_log.services.incidents.additions import (
    add_attachment,
    add_supplement,
    check_upload,
    correct_field,
    store_attachment,
)
from facility_log.services.incidents.categories import DEFAULT_CATEGORIES, ensure_default_categories
from facility_log.services.incidents.drafts import (
    CHILD_MODELS,
    add_person,
    add_property_item,
    add_vehicle,
    create_incident,
    update_draft,
)
from facility_log.services.incidents.rules import (
    CORRECTABLE_FIELDS,
    DRAFT_FIELDS,
    NEVER_CORRECTED,
    NOT_IN_PLACE,
    OPEN_AFTER_SUBMISSION,
    REQUIRED_TO_SUBMIT,
    EditConflict,
    IdempotencyConflict,
    StateConflict,
)
from facility_log.services.incidents.search import (
    SEARCHED_FIELDS,
    review_queue,
    search_document,
    search_incidents,
    visible_incidents,
)
from facility_log.services.incidents.workflow import (
    approve_incident,
    close_incident,
    missing_to_submit,
    return_incident,
    submit_incident,
    void_incident,
)

__all__ = [
    "CHILD_MODELS",
    "CORRECTABLE_FIELDS",
    "DEFAULT_CATEGORIES",
    "DRAFT_FIELDS",
    "EditConflict",
    "IdempotencyConflict",
    "NEVER_CORRECTED",
    "NOT_IN_PLACE",
    "OPEN_AFTER_SUBMISSION",
    "REQUIRED_TO_SUBMIT",
    "SEARCHED_FIELDS",
    "StateConflict",
    "add_attachment",
    "add_person",
    "add_property_item",
    "add_supplement",
    "add_vehicle",
    "approve_incident",
    "check_upload",
    "close_incident",
    "correct_field",
    "create_incident",
    "ensure_default_categories",
    "missing_to_submit",
    "return_incident",
    "review_queue",
    "search_document",
    "search_incidents",
    "store_attachment",
    "submit_incident",
    "update_draft",
    "visible_incidents",
    "void_incident",
]
