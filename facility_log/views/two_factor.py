"""The second sign-in step (services/two_factor.py): set up an authenticator app, enter its
code (or a recovery code) after the password, and replace the recovery codes."""

from base64 import b32encode

import segno
from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from facility_log.services import two_factor


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=20,
        help_text=_("The six digits from your authenticator app, or one of your recovery codes."),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "inputmode": "text"}
        ),
    )


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/"


@never_cache
@sensitive_post_parameters("code")
def verify(request):
    """After the password: a code from the app or a recovery code."""
    if request.user.is_verified():
        return redirect(_next_url(request))
    if not two_factor.has_authenticator(request.user):
        return redirect("two-factor-setup")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if two_factor.verify_second_step(request, form.cleaned_data["code"]):
            left = two_factor.remaining_recovery_codes(request.user)
            if left < 3:
                messages.warning(
                    request,
                    ngettext(
                        "%(left)d recovery code left: make new ones on the two-factor page.",
                        "%(left)d recovery codes left: make new ones on the two-factor page.",
                        left,
                    )
                    % {"left": left},
                )
            return redirect(_next_url(request))
        form.add_error("code", _("That code is not right (or was already used). Try again."))
    return render(
        request,
        "facility_log/account/two_factor_verify.html",
        {"form": form, "next": _next_url(request)},
    )


@never_cache
@sensitive_post_parameters("code")
def setup(request):
    """Set up an authenticator app: scan the QR code (or type the key), then enter a code.
    Someone already verified may set up a new phone here; someone not verified may only if
    no authenticator is confirmed yet (else the password alone would replace the phone)."""
    if two_factor.has_authenticator(request.user) and not request.user.is_verified():
        return redirect("two-factor-verify")
    device = two_factor.start_totp_setup(request.user)
    form = CodeForm(request.POST or None)
    form.fields["code"].help_text = "The six digits your authenticator app shows now."
    if request.method == "POST" and form.is_valid():
        codes = two_factor.confirm_totp(request, device, form.cleaned_data["code"])
        if codes is not None:
            return render(
                request,
                "facility_log/account/recovery_codes.html",
                {"codes": codes, "next": _next_url(request)},
            )
        form.add_error("code", _("That code is not right: check the phone's clock and try again."))
    qr = segno.make(device.config_url, error="m")
    return render(
        request,
        "facility_log/account/two_factor_setup.html",
        {
            "form": form,
            "qr_svg": qr.svg_inline(scale=5, dark="#000", light="#fff"),
            "key": _grouped(device.bin_key),
            "next": _next_url(request),
        },
    )


@never_cache
def overview(request):
    """The user's second step: whether it is set up, codes left, new recovery codes."""
    if request.method == "POST":
        if not request.user.is_verified():
            return redirect("two-factor-verify")
        codes = two_factor.new_recovery_codes(request.user)
        return render(
            request, "facility_log/account/recovery_codes.html", {"codes": codes, "next": "/"}
        )
    return render(
        request,
        "facility_log/account/two_factor.html",
        {
            "has_authenticator": two_factor.has_authenticator(request.user),
            "required": two_factor.requires_two_factor(request.user),
            "codes_left": two_factor.remaining_recovery_codes(request.user),
        },
    )


def _grouped(bin_key: bytes) -> str:
    text = b32encode(bin_key).decode()
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))
