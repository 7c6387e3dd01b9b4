"""The alarm page's reads of one alarm, compiled once and sent to the database together.

Once the alarm is read (services/scoped_get.py), the page reads its history rows, its
procedure's ticks (for the history and the checklist: one read serves both, in the ticks'
own order, which `procedures.ticks_of` also asks for) and the active procedure of its site
for its type: three fixed-shape reads, compiled once per process (services/precompiled.py)
and sent in one round trip on PostgreSQL (services/read_together.py). The history and the
checklist are built from them by `history` and `procedures` as before.
"""

from facility_log.models import Alarm, Procedure, ProcedureTick
from facility_log.services import history, procedures, read_together
from facility_log.services.incident_page import ID_SENTINEL
from facility_log.services.precompiled import PrecompiledQuery, Slot
from facility_log.services.prepared import PreparedQuery

_HISTORY_MODEL = Alarm.history.model
_HISTORY = PreparedQuery(
    lambda key, alarm_id: _HISTORY_MODEL.objects.filter(id=alarm_id).order_by(
        "history_date", "history_id"
    ),
    {"alarm_id": Slot(ID_SENTINEL, _HISTORY_MODEL._meta.get_field("id"))},
)
# alarm.procedure_ticks.select_related("ticked_by"), in the model's order (ticked_at, pk),
# the order of procedures.ticks_of too.
_TICKS = PreparedQuery(
    lambda key, alarm_id: ProcedureTick.objects.filter(alarm_id=alarm_id).select_related(
        "ticked_by"
    ),
    {"alarm_id": Slot(ID_SENTINEL, ProcedureTick._meta.get_field("alarm"))},
)
# procedures.procedure_for_alarm: `.first()` in the model's order.
_PROCEDURE = PreparedQuery(
    lambda key, site_id, alarm_type: Procedure.objects.filter(
        site_id=site_id, alarm_type=alarm_type, is_active=True
    )[:1],
    {
        "site_id": Slot(ID_SENTINEL, Procedure._meta.get_field("site")),
        "alarm_type": Slot("\x1fsentinel alarm type\x1f", Procedure._meta.get_field("alarm_type")),
    },
)


def read_alarm(alarm: Alarm, using: str = "default"):
    """`history.alarm_history(alarm)` and `procedures.alarm_checklist(alarm)`, in one round
    trip on PostgreSQL."""
    statements = {
        "history": _HISTORY.statement(None, using=using, alarm_id=alarm.pk),
        "ticks": _TICKS.statement(None, using=using, alarm_id=alarm.pk),
        "procedure": _PROCEDURE.statement(
            None, using=using, site_id=alarm.site_id, alarm_type=alarm.event_type
        ),
    }
    fetched, _none = read_together.fetch(statements, using)
    rows = {
        name: PrecompiledQuery.instances_of(compiler, fetched[name], using)
        for name, (compiler, _sql, _params) in statements.items()
    }
    for tick in rows["ticks"]:
        tick.alarm = alarm  # as alarm.procedure_ticks sets it: not read again
    procedure = rows["procedure"][0] if rows["procedure"] else None
    checklist = (procedure, procedures.checklist(procedure, rows["ticks"])) if procedure else None
    return history.alarm_history_of(rows["history"], rows["ticks"]), checklist
