"""The requests a tablet's outbox.js sends for an outbox: shared by bench/tablet_sync.py
(in-process) and bench/scans.py (over HTTP). No Django here: the load generator imports it.

Outbox items are (url, body) as bench/tablet_sync.py's `outbox()` makes them; ("ref", uuid)
in a body and {name} in a url stand for the server id of an earlier record.
"""

import re

BATCH_MAX = 100  # records per request to /api/v1/sync/, as outbox.js sends them
_FINISH = re.compile(r"/api/v1/runs/\{(\w+)\}/finish/")


def sync_record(url: str, body, refs: dict, ids: dict) -> dict | None:
    """The record POST /api/v1/sync/ takes for an outbox item, as outbox.js builds it (a
    reference by id when the id is known, else by client UUID), or None for an item sent on
    its own (shift start and end, incident, photo)."""
    if not isinstance(body, dict):
        return None

    def ref(name: str, key: str) -> dict:
        return {name: ids[key]} if key in ids else {f"{name}_uuid": key}

    body = dict(body)
    if url == "/api/v1/runs/":
        return {"type": "run", **body}
    if url == "/api/v1/scans/":
        return {"type": "scan", **ref("run", body.pop("run")[1]), **body}
    if url == "/api/v1/shift-entries/":
        return {"type": "shift-entry", **ref("shift", body.pop("shift")[1]), **body}
    if finish := _FINISH.fullmatch(url):
        return {"type": "run-finish", **ref("run", refs[finish[1]]), **body}
    return None


def batches(items, refs: dict, ids: dict):
    """The outbox in the requests outbox.js sends: ("batch", items, records) for a run of up
    to BATCH_MAX items the batch endpoint takes, ("one", item) for any other. A generator:
    each batch's references are built once the answers before it have given their ids."""
    n = 0
    while n < len(items):
        records, first = [], n
        while n < len(items) and len(records) < BATCH_MAX:
            record = sync_record(*items[n], refs, ids)
            if record is None:
                break
            records.append(record)
            n += 1
        if records:
            yield "batch", items[first:n], records
        else:
            yield "one", items[n]
            n += 1
