"""The person's own notices: the in-app list and the choice of what also comes by email."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from facility_log.models import Notification, NotificationKind
from facility_log.services import accounts, notifications

LIST_SIZE = 100


class EmailChoicesForm(forms.Form):
    """One box per kind of notice: ticked, it comes by email as well as in the app."""

    email = forms.MultipleChoiceField(
        label=gettext_lazy("Also send by email"),
        choices=NotificationKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


class LanguageForm(forms.Form):
    """The language of the pages: the person's own, or (empty) whatever the browser asks."""

    language = forms.ChoiceField(
        label=gettext_lazy("Language of the pages"),
        choices=[("", gettext_lazy("As my browser asks"))] + list(settings.LANGUAGES),
        required=False,
    )


def notification_list(request):
    """The latest notices to the signed-in person, unread first marked; "Mark all read"."""
    notices = list(
        Notification.objects.filter(recipient=request.user).select_related("site")[:LIST_SIZE]
    )
    return render(
        request,
        "facility_log/notifications/list.html",
        {
            "notices": notices,
            "unread": sum(1 for n in notices if n.read_at is None),
            "has_email": bool(request.user.email),
        },
    )


def notification_open(request, pk: int):
    """Follow a notice's link, marking it read (only the recipient's own notices)."""
    notice = get_object_or_404(Notification, pk=pk, recipient=request.user)
    notifications.mark_read(request.user, [notice])
    return redirect(notice.path)


@require_POST
def notification_mark_all_read(request):
    unread = Notification.objects.filter(recipient=request.user, read_at__isnull=True)
    count = notifications.mark_read(request.user, list(unread))
    messages.success(
        request,
        ngettext("%(count)d notice marked read.", "%(count)d notices marked read.", count)
        % {"count": count},
    )
    return redirect("notification-list")


def notification_settings(request):
    """Choose, per kind, whether notices also come by email (in the app they always do)."""
    initial = {"email": sorted(notifications.email_choices(request.user))}
    form = EmailChoicesForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        notifications.set_email_choices(request.user, set(form.cleaned_data["email"]))
        messages.success(request, _("Your choices are saved."))
        return redirect("notification-settings")
    language_form = LanguageForm(initial={"language": accounts.chosen_language(request.user)})
    return render(
        request,
        "facility_log/notifications/settings.html",
        {"form": form, "language_form": language_form, "has_email": bool(request.user.email)},
    )


@require_POST
def language_choice(request):
    """Save the person's language for the pages; it applies from the next page on."""
    form = LanguageForm(request.POST)
    if form.is_valid():
        language = form.cleaned_data["language"]
        accounts.set_language(request.user, language, request.session)
        # Say so in the language chosen (back to the browser's when the choice is cleared).
        translation.activate(language or translation.get_language_from_request(request))
        messages.success(request, _("Your language is saved."))
    else:
        messages.error(request, _("Choose one of the languages offered."))
    return redirect("notification-settings")
