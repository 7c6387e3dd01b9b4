"""The building blocks every facility_log model stands on.

Two kinds of model exist here and no third:

* **audited** (`AuditedModel` + `history = audited_history()`): mutable; every change leaves a
  simple-history row with the acting user, the user's name as text, a reason and a request id.
  Their querysets refuse the bulk writes that would change rows behind the history's back.
* **append-only** (`AppendOnlyModel`): written once, never changed or deleted through the
  application (events, ledger entries, logs).

`tests/models/test_history_coverage.py` fails when a model is neither.
"""

from django.db import models
from simple_history.models import HistoricalRecords


class HistoryBypassError(RuntimeError):
    """Raised when code tries to write an audited table around its history."""


class AuditedQuerySet(models.QuerySet):
    """A queryset whose bulk writes are refused: each would change rows with no history row.

    Change records one by one through a service (`instance.save()` / `instance.delete()`),
    which records who, when and why.
    """

    def _refuse(self, operation: str):
        raise HistoryBypassError(
            f"{self.model.__name__}.objects.{operation}() would change rows without a history "
            f"row; change each record through its service instead."
        )

    def update(self, **kwargs):
        self._refuse("update")

    def bulk_update(self, objs, fields, batch_size=None):
        self._refuse("bulk_update")

    def bulk_create(self, objs, *args, **kwargs):
        self._refuse("bulk_create")

    def delete(self):
        self._refuse("delete")

    delete.queryset_only = True

    def update_or_create(self, defaults=None, create_defaults=None, **kwargs):
        # Django's own update_or_create saves through the model, so history is kept; it is
        # listed here only to make clear it is allowed.
        return super().update_or_create(defaults, create_defaults, **kwargs)


AuditedManager = models.Manager.from_queryset(AuditedQuerySet)


class AuditedModel(models.Model):
    """Abstract base of every mutable model: bulk writes refused, history kept per row."""

    objects = AuditedManager()

    class Meta:
        abstract = True


class AuditedHistoryBase(models.Model):
    """Extra columns on every history table (NetBox-style): the user's name copied as text,
    so the row still says who acted when the account is renamed, and the request id that ties
    the change to one HTTP request or one command run."""

    history_user_name = models.CharField(max_length=150, blank=True, default="")
    history_request_id = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        abstract = True


def audited_history(**kwargs) -> HistoricalRecords:
    """The one way to declare history on a facility_log model."""
    kwargs.setdefault("bases", [AuditedHistoryBase])
    kwargs.setdefault("history_change_reason_field", models.TextField(null=True))
    return HistoricalRecords(**kwargs)


class AppendOnlyQuerySet(models.QuerySet):
    """Rows are written once: no update, no delete."""

    def update(self, **kwargs):
        raise HistoryBypassError(f"{self.model.__name__} rows are append-only.")

    def bulk_update(self, objs, fields, batch_size=None):
        raise HistoryBypassError(f"{self.model.__name__} rows are append-only.")

    def delete(self):
        raise HistoryBypassError(f"{self.model.__name__} rows are append-only.")

    delete.queryset_only = True


class AppendOnlyModel(models.Model):
    """Abstract base of records that are never changed once written.

    Each row saved on its own gets a ledger entry. A model written in bulk sets
    `ledger_per_row = False` and its service chains each batch (`ledger.record_batch`).
    """

    ledger_per_row = True

    objects = models.Manager.from_queryset(AppendOnlyQuerySet)()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise HistoryBypassError(f"{type(self).__name__} rows are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise HistoryBypassError(f"{type(self).__name__} rows are append-only.")


class DerivedQuerySet(models.QuerySet):
    """Rows the database keeps from other tables: the application only reads them."""

    def _refuse(self, *args, **kwargs):
        raise HistoryBypassError(
            f"{self.model.__name__} rows are kept by the database; the application reads them."
        )

    update = bulk_update = bulk_create = get_or_create = update_or_create = _refuse

    def delete(self):
        self._refuse()

    delete.queryset_only = True


class DerivedModel(models.Model):
    """Abstract base of figures the database derives from audited rows (by triggers, in the
    same transaction as the rows' own writes), kept so that a page need not recompute them.

    Not a record: nothing is learnt from them that the audited rows do not hold, so they have
    no history and no ledger entries. `verify_audit` recomputes each from its rows
    (`derived_problems`) and names any difference. The application never writes them.
    """

    objects = models.Manager.from_queryset(DerivedQuerySet)()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        raise HistoryBypassError(f"{type(self).__name__} rows are kept by the database.")

    def delete(self, *args, **kwargs):
        raise HistoryBypassError(f"{type(self).__name__} rows are kept by the database.")
