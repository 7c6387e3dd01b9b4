"""Access events over the API: reading them, the batch endpoint integrations push to, and the
Kisi-compatible webhook. Events are never changed: there is no PUT, PATCH or DELETE.

`batch` holds the batch input and its checks, `events` the read endpoints and the batch
action, `kisi` the webhook. Everything is re-exported here, so api/urls.py keeps using
`access.<name>`.
"""

from facility_log.api.access.batch import (
    MAX_BATCH,
    AccessEventItemSerializer,
    BatchItemResultSerializer,
    BatchResultSerializer,
    TextOrEpochField,
)
from facility_log.api.access.events import (
    LIST_COLUMNS,
    AccessEventFilter,
    AccessEventSerializer,
    AccessEventViewSet,
    SitesPagination,
)
from facility_log.api.access.kisi import (
    KISI_EVENT,
    KISI_TEXT_FIELDS,
    KisiWebhookResultSerializer,
    KisiWebhookView,
)

__all__ = [
    "AccessEventFilter",
    "AccessEventItemSerializer",
    "AccessEventSerializer",
    "AccessEventViewSet",
    "BatchItemResultSerializer",
    "BatchResultSerializer",
    "KISI_EVENT",
    "KISI_TEXT_FIELDS",
    "KisiWebhookResultSerializer",
    "KisiWebhookView",
    "LIST_COLUMNS",
    "MAX_BATCH",
    "SitesPagination",
    "TextOrEpochField",
]
