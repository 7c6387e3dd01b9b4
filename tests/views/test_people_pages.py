"""People of a site from its pages: a manager invites by email (set-password link), gives and
ends roles, deactivates; every step audited; nobody else can."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from facility_log.models import Membership

pytestmark = pytest.mark.django_db
User = get_user_model()


def _invite(client, code="ALPHA", **extra):
    data = {
        "email": "neu@example.org",
        "first_name": "Nina",
        "last_name": "Neu",
        "username": "nina",
        "role": "guard",
        "reason": "new night guard",
    }
    data.update(extra)
    return client.post(reverse("people-invite", args=[code]), data)


def test_a_manager_invites_a_guard_who_sets_a_password_and_signs_in(
    personas, client_for, client, settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://log.example.org"
    with django_capture_on_commit_callbacks(execute=True):
        response = _invite(client_for("manager_ab"))
    assert response.status_code == 302
    nina = User.objects.get(username="nina")
    assert not nina.has_usable_password()
    membership = Membership.objects.get(user=nina)
    assert (membership.site, membership.role, membership.is_active) == (
        personas.site_a,
        "guard",
        True,
    )
    assert membership.history.latest().history_change_reason == "new night guard"
    (message,) = mail.outbox
    assert message.to == ["neu@example.org"] and "nina" in message.body
    link = re.search(r"https://log\.example\.org(/set-password/\S+)", message.body).group(1)

    # The link works without signing in; Django swaps the token for a session step.
    page = client.get(link, follow=True)
    assert "Choose your password" in page.content.decode()
    form_url = page.redirect_chain[-1][0]
    done = client.post(
        form_url,
        {"new_password1": "a-Long-pass-phrase-42", "new_password2": "a-Long-pass-phrase-42"},
    )
    assert done.status_code == 302
    nina.refresh_from_db()
    assert nina.check_password("a-Long-pass-phrase-42")
    assert nina.history.latest().history_change_reason == "password set from the emailed link"
    # Used once: the link is dead now.
    assert "has been used or has expired" in client.get(link, follow=True).content.decode()
    from django.test import RequestFactory

    # axes reads the sign-in's request (address, user agent) to throttle it.
    assert client.login(
        request=RequestFactory().post("/login/"), username="nina", password="a-Long-pass-phrase-42"
    )


def test_invitation_errors_name_the_field_and_write_nothing(personas, client_for):
    client = client_for("manager_ab")
    html = _invite(client, email="not-an-address", username="bad name").content.decode()
    assert "Enter a valid email address" in html and "Letters, digits" in html
    personas.guard_a.email = "gina@example.org"
    from facility_log.services.audit import audited_change

    with audited_change(personas.admin, "test"):
        personas.guard_a.save()
    html = _invite(client, email="GINA@example.org").content.decode()
    assert "already has an account with this address" in html
    html = _invite(client, username="guard_a").content.decode()
    assert "This username is taken" in html
    assert not User.objects.filter(username="nina").exists()


@pytest.mark.parametrize("who", ["guard_a", "supervisor_a", "auditor_a", "outsider_c"])
def test_only_the_sites_managers_manage_its_people(personas, client_for, who):
    client = client_for(who)
    assert _invite(client).status_code in (403, 404)
    membership = Membership.objects.get(user=personas.guard_a, site=personas.site_a)
    for name in ("people-end-role", "people-deactivate"):
        url = reverse(name, args=["ALPHA", membership.pk])
        assert client.post(url, {"reason": "x"}).status_code in (403, 404)
    assert not User.objects.filter(username="nina").exists()
    assert Membership.objects.get(pk=membership.pk).is_active


def test_give_a_role_then_end_it_with_a_reason(personas, client_for):
    client = client_for("manager_ab")
    response = client.post(
        reverse("people-give-role", args=["BRAVO"]),
        {"username": "guard_a", "role": "guard", "reason": "covers Bravo"},
    )
    assert response.status_code == 302
    membership = Membership.objects.get(user=personas.guard_a, site=personas.site_b)
    confirm = client.get(reverse("people-end-role", args=["BRAVO", membership.pk]))
    assert "End the role" in confirm.content.decode()
    client.post(reverse("people-end-role", args=["BRAVO", membership.pk]), {"reason": "back to A"})
    membership.refresh_from_db()
    assert not membership.is_active
    assert membership.history.latest().history_change_reason == "back to A"
    html = client.post(
        reverse("people-give-role", args=["BRAVO"]),
        {"username": "nobody", "role": "guard", "reason": "x"},
    ).content.decode()
    assert "No account with this username" in html


def test_deactivation_only_when_the_manager_manages_every_site_of_the_account(personas, client_for):
    client = client_for("manager_ab")
    guard = Membership.objects.get(user=personas.guard_a, site=personas.site_a)
    response = client.post(
        reverse("people-deactivate", args=["ALPHA", guard.pk]), {"reason": "left the company"}
    )
    assert response.status_code == 302
    personas.guard_a.refresh_from_db()
    assert not personas.guard_a.is_active
    assert not Membership.objects.filter(user=personas.guard_a, is_active=True).exists()
    # Someone who also works at site C (not managed by manager_ab) is not theirs to deactivate.
    from facility_log.services import sites

    sites.grant_membership(
        personas.site_c, personas.admin, user=personas.supervisor_a, role="guard", reason="t"
    )
    supervisor = Membership.objects.get(user=personas.supervisor_a, site=personas.site_a)
    url = reverse("people-deactivate", args=["ALPHA", supervisor.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"reason": "x"}).status_code == 403
    personas.supervisor_a.refresh_from_db()
    assert personas.supervisor_a.is_active


def test_the_site_page_offers_the_people_actions_to_its_manager_only(personas, client_for):
    html = client_for("manager_ab").get(reverse("site-page", args=["ALPHA"])).content.decode()
    assert reverse("people-invite", args=["ALPHA"]) in html
    assert "Deactivate…" in html
    guard_view = client_for("guard_a").get(reverse("site-page", args=["ALPHA"])).content.decode()
    assert reverse("people-invite", args=["ALPHA"]) not in guard_view
