"""Every admin URL of every registered model, and plausible data to POST to it.

The data is what a person (or a forged form) would send: the fields the page's form shows,
over the record's own values (for pages that show no form, such as a closed revert page), with
every text changed, a reason, a new password and the answers of the delete page and the bulk
actions. Extra keys are ignored by the forms that do not know them.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime
from html.parser import HTMLParser

from django.contrib import admin
from django.db import models
from django.urls import URLPattern, URLResolver, reverse

CHANGED = "-x"
NEW_PASSWORD = "Fresh-passphrase-4711"


@dataclass
class AdminUrl:
    model: type[models.Model] | None
    obj: models.Model | None
    name: str
    url: str
    history_row: object = None

    @property
    def is_revert(self) -> bool:
        return self.name.endswith("_simple_history")

    def __str__(self) -> str:
        return f"{self.name or '(unnamed)'} {self.url}"


def _fill(pattern, values: list[str]) -> str:
    """The path of `pattern` with its placeholders replaced by `values`, in order."""
    given = iter(values)
    text = str(pattern.pattern)
    if text.startswith("^"):
        text = re.sub(r"\((\?P<\w+>)?[^)]*\)", lambda _m: next(given), text[1:].rstrip("$"))
    else:
        text = re.sub(r"<[^>]+>", lambda _m: next(given), text)
    return text


def _placeholders(pattern) -> int:
    text = str(pattern.pattern)
    if text.startswith("^"):
        return len(re.findall(r"\((\?P<\w+>)?[^)]*\)", text))
    return len(re.findall(r"<[^>]+>", text))


def model_admin_urls(instances: dict) -> list[AdminUrl]:
    """Every URL each registered admin serves, for each of the world's records of it."""
    found = []
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        base = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        for obj in instances[model]:
            versions = model.history.filter(id=obj.pk) if hasattr(model, "history") else None
            oldest = versions.order_by("history_id").first() if versions is not None else None
            for pattern in model_admin.get_urls():
                values = [str(obj.pk)]
                if _placeholders(pattern) == 2:
                    if oldest is None:
                        continue
                    values.append(str(oldest.history_id))
                url = base + _fill(pattern, values)
                found.append(AdminUrl(model, obj, pattern.name or "", url, oldest))
    return found


def site_urls(instances: dict) -> list[AdminUrl]:
    """The admin site's own URLs (index, password change, …), the catch-all excepted."""
    found = []
    any_model, any_obj = next((m, objs[0]) for m, objs in instances.items() if objs)
    for pattern in admin.site.get_urls():
        if isinstance(pattern, URLResolver) or not isinstance(pattern, URLPattern):
            continue
        if not pattern.name:
            continue
        if pattern.name == "view_on_site":
            from django.contrib.contenttypes.models import ContentType

            values = [str(ContentType.objects.get_for_model(any_model).pk), str(any_obj.pk)]
        elif pattern.name == "app_list":
            found.append(AdminUrl(None, None, "app_list", "/admin/facility_log/"))
            continue
        else:
            values = []
        found.append(AdminUrl(None, None, pattern.name, "/admin/" + _fill(pattern, values)))
    return found


class _FormReader(HTMLParser):
    """The fields of the page's POST forms (the sign-out form excepted), as a browser sends
    them."""

    def __init__(self):
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self._in_form = False
        self._select: str | None = None
        self._select_first: str | None = None
        self._select_chosen = False
        self._textarea: str | None = None

    def _add(self, name: str, value: str) -> None:
        self.data.setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            posts = (a.get("method") or "").lower() == "post"
            self._in_form = posts and "logout" not in (a.get("action") or "")
        if not self._in_form or not a.get("name") and tag != "option":
            return
        if tag == "input":
            kind = (a.get("type") or "text").lower()
            if kind in ("submit", "button", "file", "image", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self._add(a["name"], a.get("value") or ("on" if kind == "checkbox" else ""))
        elif tag == "textarea":
            self._textarea = a["name"]
            self._add(a["name"], "")
        elif tag == "select":
            self._select, self._select_first, self._select_chosen = a["name"], None, False
        elif tag == "option" and self._select:
            value = a.get("value", "")
            if self._select_first is None:
                self._select_first = value
            if "selected" in a:
                self._add(self._select, value)
                self._select_chosen = True

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea][-1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_form = False
        elif tag == "textarea":
            if self._textarea:
                self.data[self._textarea][-1] = self.data[self._textarea][-1].lstrip("\n")
            self._textarea = None
        elif tag == "select" and self._select:
            if not self._select_chosen and self._select_first is not None:
                self._add(self._select, self._select_first)
            self._select = None


def form_fields(html: str) -> dict[str, list[str]]:
    reader = _FormReader()
    reader.feed(html)
    return reader.data


def _free_text(field) -> bool:
    """A field a person writes prose into (not a code, a key, a time zone or a hash)."""
    if isinstance(field, models.TextField):
        return True
    return (
        isinstance(field, models.CharField)
        and not field.choices
        and not field.unique
        and field.max_length >= 100
        and not field._validators
    )


def free_text_names() -> set[str]:
    from django.apps import apps

    return {f.name for m in apps.get_models() for f in m._meta.concrete_fields if _free_text(f)}


def record_fields(obj: models.Model) -> dict[str, list[str]]:
    """A record's values as an admin form would post them (times split as the admin's
    widgets send them)."""
    data = {}
    for field in obj._meta.concrete_fields:
        if field.primary_key:
            continue
        value = getattr(obj, field.attname)
        if isinstance(value, bool):
            if value:
                data[field.name] = ["on"]
            continue
        if isinstance(value, datetime):
            data[f"{field.name}_0"] = [value.date().isoformat()]
            data[f"{field.name}_1"] = [value.time().replace(microsecond=0).isoformat()]
            value = value.isoformat()
        elif isinstance(value, date):
            value = value.isoformat()
        data[field.name] = ["" if value is None else str(value)]
    return data


def plausible_post(page_html: str, target: AdminUrl, reason: str) -> dict[str, list[str]]:
    """What to POST to `target`: the page's form over the record's (or, on a revert page,
    the old version's) values, texts changed, with `reason` and the other pages' answers."""
    source = target.history_row.instance if target.is_revert else target.obj
    data = record_fields(source) if source is not None else {}
    data.update(form_fields(page_html))
    prose = free_text_names()
    for name, values in data.items():
        if name.rsplit("-", 1)[-1] in prose and values and values[0]:
            data[name] = [values[0] + CHANGED]
    data.update(
        {
            "change_reason": [reason],
            "password1": [NEW_PASSWORD],
            "password2": [NEW_PASSWORD],
            "usable_password": ["true"],
            "post": ["yes"],
            "action": ["delete_selected"],
            "index": ["0"],
            "_save": ["Save"],
        }
    )
    if target.obj is not None:
        data["_selected_action"] = [str(target.obj.pk)]
    return data
