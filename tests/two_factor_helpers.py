"""Signing test clients in *with* the second step, as a real supervisor would be.

Supervisors, managers, auditors and staff must pass two-factor sign-in (services/two_factor.py).
Tests do not turn that off: they give the person an authenticator device and mark the session
verified (`verified_login`), or type the device's current code in the browser
(`pass_second_step`)."""

from django.contrib.auth import get_user_model
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from facility_log.services.two_factor import requires_two_factor


def authenticator(user) -> TOTPDevice:
    """The person's confirmed authenticator app (made on first use)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="test phone", confirmed=True)


def current_code(device: TOTPDevice) -> str:
    """The code the phone shows now. The device's replay guard and its slow-down after wrong
    codes are reset first, so a test may sign the same person in twice within one 30-second
    step, or right after testing a wrong code."""
    device.last_t = -1
    device.throttling_failure_count = 0
    device.throttling_failure_timestamp = None
    device.save(
        update_fields=["last_t", "throttling_failure_count", "throttling_failure_timestamp"]
    )
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    return f"{code:0{device.digits}d}"


def verified_login(client: Client, user) -> Client:
    """`client.force_login(user)`, plus the second step when the user needs it."""
    client.force_login(user)
    if requires_two_factor(user):
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = authenticator(user).persistent_id
        session.save()
    return client


def ready_for_second_step(username: str) -> None:
    """Before a browser signs in: give the person an authenticator if they need one."""
    user = get_user_model().objects.get(username=username)
    if requires_two_factor(user):
        authenticator(user)


def pass_second_step(page, username: str) -> None:
    """In the browser, after the password: type the authenticator's code if the person needs
    the second step."""
    user = get_user_model().objects.get(username=username)
    if not requires_two_factor(user):
        return
    page.wait_for_url("**/account/two-factor/verify/**")
    page.get_by_label("Code").fill(current_code(authenticator(user)))
    page.get_by_role("button", name="Verify").click()
