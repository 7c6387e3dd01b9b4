"""Every model of facility_log is historical, append-only, or a figure the database derives
from them (checked by verify_audit); nothing else exists."""

from django.apps import apps
from django.contrib.auth import get_user_model
from simple_history.models import registered_models

from facility_log.models import AppendOnlyModel, AuditedModel, DerivedModel


def _own_models():
    return [
        model
        for model in apps.get_app_config("facility_log").get_models()
        if not model.__name__.startswith("Historical")
    ]


def test_every_mutable_model_is_historical():
    missing = [
        model.__name__
        for model in _own_models()
        if not issubclass(model, AppendOnlyModel | DerivedModel)
        and model not in registered_models.values()
    ]
    assert not missing, f"these models change without history: {missing}"


def test_every_historical_model_refuses_bulk_writes():
    loose = [
        model.__name__
        for model in _own_models()
        if not issubclass(model, AppendOnlyModel | AuditedModel | DerivedModel)
    ]
    assert not loose, f"these models allow QuerySet.update/delete: {loose}"


def test_user_accounts_are_historical_without_password_hashes():
    user_model = get_user_model()
    assert user_model in registered_models.values()
    tracked = {f.name for f in user_model.history.model.tracked_fields}
    assert "password" not in tracked
    assert {"username", "is_active", "is_superuser"} <= tracked


def test_history_rows_carry_user_name_and_request_id_columns():
    for model in registered_models.values():
        if model._meta.app_label not in {"facility_log", "auth"}:
            continue
        columns = {f.name for f in model.history.model._meta.fields}
        assert {"history_user_name", "history_request_id", "history_change_reason"} <= columns
