"""The incident workflow through the services: numbering, review, supplements, corrections."""

import uuid

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from facility_log.models import Incident, IncidentCounter, Review, Supplement
from facility_log.services import incidents as svc
from tests.incident_factories import category, draft, submitted


@pytest.mark.django_db
def test_submission_issues_consecutive_numbers_per_site_and_year(personas):
    first = submitted(personas)
    second = submitted(personas)
    year = timezone.now().astimezone(personas.site_a.tzinfo).year
    assert first.number == f"ALPHA-{year}-0001"
    assert second.number == f"ALPHA-{year}-0002"
    assert IncidentCounter.objects.get(site=personas.site_a, year=year).last_number == 2


@pytest.mark.django_db
def test_a_draft_has_no_number_and_resubmission_keeps_it(personas):
    incident = draft(personas)
    assert incident.number is None
    incident = svc.submit_incident(incident, personas.guard_a)
    number = incident.number
    incident = svc.return_incident(incident, personas.supervisor_a, comment="Which gate?")
    svc.add_supplement(incident, personas.guard_a, text="Gate B, north side.", reason="asked")
    incident = svc.submit_incident(incident, personas.guard_a, reason="answered the question")
    assert incident.number == number
    assert IncidentCounter.objects.get().last_number == 1


@pytest.mark.django_db
def test_full_workflow_leaves_reviews_supplements_and_history(personas):
    incident = submitted(personas)
    incident = svc.return_incident(incident, personas.supervisor_a, comment="Add the time.")
    svc.add_supplement(incident, personas.guard_a, text="It was 02:10.", reason="time asked")
    incident = svc.submit_incident(incident, personas.guard_a)
    incident = svc.approve_incident(incident, personas.supervisor_a, comment="Thanks")
    incident = svc.close_incident(incident, personas.manager_ab, reason="no further action")
    assert incident.status == "closed"
    assert [r.decision for r in Review.objects.order_by("id")] == ["returned", "approved"]
    assert Supplement.objects.get().text == "It was 02:10."
    timeline = svc.incident_timeline(incident)
    supervisor = personas.supervisor_a
    # One line per review, naming the reviewer by name and username.
    assert timeline[2].who == f"{supervisor.get_full_name()} ({supervisor.username})"
    assert supervisor.get_full_name()
    kinds = [e.kind for e in timeline]
    assert kinds == [
        "created",
        "submitted",
        "review: returned",
        "supplement",
        "submitted",
        "review: approved",
        "closed",
    ]


@pytest.mark.django_db
def test_submitted_incident_cannot_be_edited_in_place(personas):
    incident = submitted(personas)
    with pytest.raises(ValidationError) as error:
        svc.update_draft(
            incident, personas.guard_a, expected_version=incident.version, narrative="Rewritten"
        )
    assert "narrative" in error.value.message_dict
    with pytest.raises(ValidationError):
        svc.correct_field(
            incident, personas.supervisor_a, field="narrative", value="x", reason="tidy"
        )
    assert Incident.objects.get(pk=incident.pk).narrative == "Gate B found open at 02:10."


@pytest.mark.django_db
def test_stale_draft_edit_is_a_conflict_not_an_overwrite(personas):
    incident = draft(personas)
    version = incident.version
    svc.update_draft(incident, personas.guard_a, expected_version=version, title="First")
    with pytest.raises(svc.EditConflict) as error:
        svc.update_draft(incident, personas.supervisor_a, expected_version=version, title="Old")
    assert error.value.current.title == "First"
    assert Incident.objects.get(pk=incident.pk).title == "First"


@pytest.mark.django_db
def test_correction_needs_a_reason_and_shows_in_history(personas):
    incident = submitted(personas)
    with pytest.raises(ValidationError) as error:
        svc.correct_field(incident, personas.guard_a, field="severity", value="high", reason=" ")
    assert "reason" in error.value.message_dict
    svc.correct_field(
        incident, personas.guard_a, field="severity", value="high", reason="injury found"
    )
    row = Incident.history.filter(id=incident.pk).latest()
    assert row.severity == "high"
    assert row.history_change_reason == "correction: injury found"
    assert row.history_user_name == "guard_a"


@pytest.mark.django_db
def test_return_needs_a_comment_and_a_reviewer_other_than_the_author(personas):
    incident = submitted(personas)
    with pytest.raises(ValidationError) as error:
        svc.return_incident(incident, personas.supervisor_a, comment="")
    assert "comment" in error.value.message_dict
    with pytest.raises(PermissionDenied):
        svc.approve_incident(incident, personas.guard_a)
    mine = submitted(personas, author=personas.supervisor_a)
    with pytest.raises(PermissionDenied):
        svc.approve_incident(mine, personas.supervisor_a)
    assert Review.objects.count() == 0


@pytest.mark.django_db
def test_only_managers_close(personas):
    incident = svc.approve_incident(submitted(personas), personas.supervisor_a)
    with pytest.raises(PermissionDenied):
        svc.close_incident(incident, personas.supervisor_a, reason="done")
    assert svc.close_incident(incident, personas.manager_ab, reason="done").status == "closed"


@pytest.mark.django_db
def test_invalid_transitions_name_the_status(personas):
    incident = draft(personas)
    with pytest.raises(ValidationError) as error:
        svc.approve_incident(incident, personas.supervisor_a)
    assert "status" in error.value.message_dict
    with pytest.raises(ValidationError):
        svc.close_incident(incident, personas.manager_ab, reason="x")


@pytest.mark.django_db
def test_void_needs_a_reason_and_keeps_the_number(personas):
    incident = submitted(personas)
    with pytest.raises(ValidationError) as error:
        svc.void_incident(incident, personas.supervisor_a, reason="")
    assert "reason" in error.value.message_dict
    voided = svc.void_incident(incident, personas.supervisor_a, reason="duplicate")
    assert (voided.status, voided.void_reason) == ("void", "duplicate")
    assert voided.number == incident.number


@pytest.mark.django_db
def test_submission_requires_the_essentials(personas):
    incident = draft(personas, narrative="")
    with pytest.raises(ValidationError) as error:
        svc.submit_incident(incident, personas.guard_a)
    assert "narrative" in error.value.message_dict
    assert Incident.objects.get(pk=incident.pk).status == "draft"


@pytest.mark.django_db
def test_end_before_start_is_refused_and_nothing_saved(personas):
    now = timezone.now()
    with pytest.raises(ValidationError) as error:
        draft(personas, occurred_from=now, occurred_to=now - timezone.timedelta(hours=1))
    assert "occurred_to" in error.value.message_dict
    assert Incident.objects.count() == 0


@pytest.mark.django_db
def test_create_is_idempotent_on_client_uuid(personas):
    key = uuid.uuid4()
    payload = {"narrative": "Smoke in the lobby", "category": category("Fire")}
    first, created = svc.create_incident(
        personas.guard_a, site=personas.site_a, client_uuid=key, **payload
    )
    again, created_again = svc.create_incident(
        personas.guard_a, site=personas.site_a, client_uuid=key, **payload
    )
    assert (created, created_again, again.pk) == (True, False, first.pk)
    with pytest.raises(svc.IdempotencyConflict):
        svc.create_incident(
            personas.guard_a, site=personas.site_a, client_uuid=key, narrative="Something else"
        )
    assert Incident.objects.count() == 1


@pytest.mark.django_db
def test_persons_are_created_with_the_incident(personas):
    incident, _ = svc.create_incident(
        personas.guard_a,
        site=personas.site_a,
        narrative="x",
        persons=[{"role": "witness", "name": "Pat", "statement": "I saw it."}],
    )
    assert [(p.role, p.name) for p in incident.persons.all()] == [("witness", "Pat")]


@pytest.mark.django_db
def test_outsider_cannot_report_at_site_a(personas):
    with pytest.raises(PermissionDenied):
        svc.create_incident(personas.outsider_c, site=personas.site_a, narrative="x")
    assert Incident.objects.count() == 0


@pytest.mark.django_db
def test_zone_must_belong_to_the_site(personas):
    with pytest.raises(ValidationError) as error:
        draft(personas, zone=personas.zone_c)
    assert "zone" in error.value.message_dict


@pytest.mark.django_db
def test_search_never_matches_person_names(personas):
    svc.create_incident(
        personas.guard_a,
        site=personas.site_a,
        narrative="Door left open",
        persons=[{"role": "suspect", "name": "Zebedee"}],
    )
    assert not svc.search_incidents(personas.manager_ab, {"text": "Zebedee"}).exists()
    assert svc.search_incidents(personas.manager_ab, {"text": "door left"}).count() == 1
