"""Incident pages: report, edit a draft, the detail page with its workflow buttons,
corrections and supplements after submission, history, and attachment downloads.

`common` holds the helpers every page uses (the scoped lookup, the site's time zone);
`drafts` creating and editing; `detail` reading (detail, history, downloads); `workflow`
the buttons that move an incident on and the additions after submission. Everything is
re-exported here, so urls.py keeps using `views.incidents.<view>`.
"""

from facility_log.views.incidents.common import PAGE_SIZE, User, correctable_fields, incident_url
from facility_log.views.incidents.detail import (
    attachment_download,
    incident_detail,
    incident_history,
)
from facility_log.views.incidents.drafts import (
    ADDABLE,
    incident_add_item,
    incident_edit,
    incident_new,
)
from facility_log.views.incidents.workflow import (
    TRANSITIONS,
    incident_attach,
    incident_correct,
    incident_correct_field,
    incident_supplement,
    incident_transition,
)

__all__ = [
    "ADDABLE",
    "PAGE_SIZE",
    "TRANSITIONS",
    "User",
    "attachment_download",
    "correctable_fields",
    "incident_add_item",
    "incident_attach",
    "incident_correct",
    "incident_correct_field",
    "incident_detail",
    "incident_edit",
    "incident_history",
    "incident_new",
    "incident_supplement",
    "incident_transition",
    "incident_url",
]
