"""Exports that leave the system: the police package of an incident."""

from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from facility_log.forms.exports import PolicePackageForm
from facility_log.models import Disclosure
from facility_log.models.incidents import Incident
from facility_log.scoping import REVIEW_ROLES, get_scoped_or_404
from facility_log.services.downloads import serve_police_package

# The session remembers which export each form made (its `export_key` → the disclosure), so
# a second click on "Export" shows that export instead of disclosing the incident again.
MADE_EXPORTS = "police_exports"
REMEMBERED_EXPORTS = 20


def incident_police_package(request, pk: int):
    """Ask who receives it and why (once), then hand over NUMBER.zip and show the disclosure it
    made (supervisors and managers). Every download is recorded in the disclosure log before
    it is sent; submitting the same form again shows that disclosure and sends nothing."""
    incident = get_scoped_or_404(
        Incident.objects.select_related("site"), request.user, REVIEW_ROLES, pk=pk
    )
    key = request.GET.get("export") or request.POST.get("export_key")
    made = _made_export(request, incident, key)
    if made is not None:
        return _render(request, incident, None, made)
    if request.GET.get("export"):
        # Asked by the page's script while the package is still being made.
        return HttpResponse(status=204)
    form = PolicePackageForm(request.POST or None)
    if not incident.number:
        form.add_error(None, _("A draft has no number yet; submit it before exporting."))
    elif request.method == "POST" and form.is_valid():
        try:
            return _send_package(request, incident, form.cleaned_data)
        except ValidationError as refused:
            # E.g. an attachment changed in storage since its upload: the page says which,
            # and nothing was disclosed.
            for message in refused.messages:
                form.add_error(None, message)
            return _render(request, incident, form, None, status=409)
    return _render(request, incident, form, None)


def _render(request, incident, form, disclosure, status=200):
    return render(
        request,
        "facility_log/incidents/police_package.html",
        {"incident": incident, "form": form, "disclosure": disclosure},
        status=status,
    )


def _made_export(request, incident: Incident, key: str | None) -> Disclosure | None:
    """The disclosure this user's form `key` already made of `incident`, if any."""
    disclosure_pk = request.session.get(MADE_EXPORTS, {}).get(str(key or ""))
    if disclosure_pk is None:
        return None
    return Disclosure.objects.filter(
        pk=disclosure_pk, disclosed_by=request.user, object_pk=str(incident.pk)
    ).first()


def _send_package(request, incident: Incident, cleaned: dict) -> FileResponse:
    response = serve_police_package(
        incident,
        request.user,
        recipient=cleaned["recipient"],
        reason=cleaned["reason"],
        case_number=cleaned["case_number"],
        redact=cleaned["redact"],
    )
    if cleaned["export_key"] is None:  # a form posted without the page (no key to remember)
        return response
    made = request.session.get(MADE_EXPORTS, {})
    made[str(cleaned["export_key"])] = response.disclosure.pk
    request.session[MADE_EXPORTS] = dict(list(made.items())[-REMEMBERED_EXPORTS:])
    return response
