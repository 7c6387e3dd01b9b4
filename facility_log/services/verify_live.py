"""Live rows against their history: part of `verify_audit`.

The ledger proves the history rows; the pages, API and exports show the live rows. A live row
changed with SQL (no history row written) would pass every ledger check while an approved
report said something else, so each live row of an audited model must equal its latest
history row in every tracked field, must have a history at all, and must not outlive a
history that says it was deleted. Rows the retention purge removed take their history with
them, so they are simply absent on both sides.
"""

from collections.abc import Iterator

from simple_history.models import registered_models

from facility_log.services.ledger import Problem, Verification

CHUNK = 5000


def audited_models() -> list[type]:
    return list(registered_models.values())


def _fields(model) -> list[str]:
    return [field.attname for field in model.history.model.tracked_fields]


def _latest_history(model, fields: list[str], pks=None) -> Iterator[tuple]:
    """(pk, latest history row as values) per record, in pk order, streamed."""
    pk_name = model._meta.pk.attname
    rows = model.history.model._base_manager.all()
    if pks is not None:
        rows = rows.filter(**{f"{pk_name}__in": pks})
    rows = rows.order_by(pk_name, "history_id").values(*fields, "history_id", "history_type")
    current, latest = None, None
    for row in rows.iterator(chunk_size=CHUNK):
        if row[pk_name] != current and latest is not None:
            yield current, latest
        current, latest = row[pk_name], row
    if latest is not None:
        yield current, latest


def _compare(result: Verification, model, fields, pk, live: dict | None, last: dict | None):
    label = f"{model._meta.verbose_name} #{pk}"
    if live is None:
        if last is not None and last["history_type"] != "-":
            result.problems.append(
                Problem(None, label, "was deleted behind the application (its history ends live)")
            )
        return
    if last is None:
        result.problems.append(
            Problem(None, label, "has no history (written behind the application)")
        )
    elif last["history_type"] == "-":
        result.problems.append(Problem(None, label, "exists though its history says deleted"))
    elif any(live[name] != last[name] for name in fields):
        changed = ", ".join(name for name in fields if live[name] != last[name])
        result.problems.append(
            Problem(
                None,
                label,
                f"differs from its last history row #{last['history_id']} in {changed} "
                "(changed behind the application)",
            )
        )


def check_live_rows(result: Verification) -> None:
    """Every live row of every audited model against its latest history row (streamed)."""
    for model in audited_models():
        fields = _fields(model)
        pk_name = model._meta.pk.attname
        live_rows = model._base_manager.order_by(pk_name).values(*fields).iterator(CHUNK)
        live = next(live_rows, None)
        for pk, last in _latest_history(model, fields):
            while live is not None and live[pk_name] < pk:
                _compare(result, model, fields, live[pk_name], live, None)
                live = next(live_rows, None)
            matched = live if live is not None and live[pk_name] == pk else None
            _compare(result, model, fields, pk, matched, last)
            if matched is not None:
                live = next(live_rows, None)
        while live is not None:
            _compare(result, model, fields, live[pk_name], live, None)
            live = next(live_rows, None)


def check_live_rows_since(result: Verification, high_water: dict) -> None:
    """Only records created or changed through the application since the checkpoint (rows
    above its marks, or with history rows above them)."""
    for model in audited_models():
        fields = _fields(model)
        pk_name = model._meta.pk.attname
        history = model.history.model
        new_live = model._base_manager.filter(pk__gt=high_water.get(model._meta.label_lower, 0))
        changed = history._base_manager.filter(
            history_id__gt=high_water.get(history._meta.label_lower, 0)
        )
        pks = sorted(
            set(new_live.values_list("pk", flat=True))
            | set(changed.values_list(pk_name, flat=True))
        )
        for start in range(0, len(pks), CHUNK):
            chunk = pks[start : start + CHUNK]
            live = {
                row[pk_name]: row
                for row in model._base_manager.filter(pk__in=chunk).values(*fields)
            }
            latest = dict(_latest_history(model, fields, chunk))
            for pk in chunk:
                _compare(result, model, fields, pk, live.get(pk), latest.get(pk))
