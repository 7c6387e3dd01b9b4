"""The site's lone-worker check-in rule, set by its managers with a reason (history below).
What the rule does is services/lone_worker.py and docs/lone-worker.md."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from facility_log.forms.lone_worker import LoneWorkerPolicyForm
from facility_log.models import LoneWorkerPolicy
from facility_log.scoping import MANAGE_ROLES, get_site_or_404
from facility_log.services import lone_worker
from facility_log.services.history import merged_history


def _initial(policy: LoneWorkerPolicy | None) -> dict:
    policy = policy or LoneWorkerPolicy()
    return {
        "enabled": policy.enabled,
        "interval_minutes": policy.interval_minutes,
        "grace_minutes": policy.grace_minutes,
    }


def lone_worker_page(request, code: str):
    """Show and set the site's rule (managers); the changes' history with their reasons."""
    site = get_site_or_404(request.user, code, MANAGE_ROLES)
    policy = lone_worker.policy_for(site)
    form = LoneWorkerPolicyForm(request.POST or None, initial=_initial(policy))
    if request.method == "POST" and form.is_valid():
        try:
            lone_worker.set_lone_worker_policy(site, request.user, **form.cleaned_data)
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                form.add_error(field if field in form.fields else None, problems)
        else:
            messages.success(request, _("Lone-worker rule saved."))
            return redirect("site-lone-worker", code=site.code)
    history = merged_history(LoneWorkerPolicy.history.filter(site_id=site.pk))
    return render(
        request,
        "facility_log/lone_worker/policy.html",
        {"site": site, "policy": policy, "form": form, "history": history},
    )
