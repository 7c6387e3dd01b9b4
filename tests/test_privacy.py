"""PRIVACY.md and the models agree: the system records the facility, not people's lives.

These tests fail when a model grows a field for social-media handles, location trails or
biometric templates, or when a model of people appears beyond the facility's own accounts and
the persons recorded inside one incident.
"""

import re
from pathlib import Path

import pytest
from django.apps import apps

ROOT = Path(__file__).resolve().parent.parent

# Words that name what we never store. Matched against field names and help texts.
FORBIDDEN = re.compile(
    r"social|twitter|facebook|instagram|tiktok|linkedin|telegram|handle|dark_?web|"
    r"face_?(print|encoding|embedding|template|id)|biometric|fingerprint|iris|gait|voiceprint|"
    r"latitude|longitude|\blat\b|\blng\b|\blon\b|gps|geo_?(location|track|trail)|location_?(trail|history|track)|"
    r"ip_?address|browsing|device_?id|imei|mac_?address",
    re.IGNORECASE,
)

# The only models allowed to describe a person. New entries need a line in PRIVACY.md.
PEOPLE_MODELS = {"User", "Membership", "ApiToken"}
PERSON_WORDS = re.compile(
    r"person|people|profile|subject|individual|suspect|watchlist|dossier", re.IGNORECASE
)
# Inside one incident only (the incidents issue): persons involved, never indexed across.
ALLOWED_INCIDENT_PERSON_MODELS = {"InvolvedPerson"}


# django-axes pauses password guessing per username *and address*: its records of failed
# sign-ins must hold the address (PRIVACY.md: kept until the cool-off ends; successful
# sign-ins are not recorded, AXES_DISABLE_ACCESS_LOG).
SIGN_IN_THROTTLE_FIELDS = {
    "AccessAttempt.ip_address",
    "AccessLog.ip_address",
    "AccessFailureLog.ip_address",
}


def _models():
    return [m for m in apps.get_models() if not m.__name__.startswith("Historical")]


def test_no_field_stores_social_media_location_trails_or_biometrics():
    offenders = []
    for model in _models():
        for field in model._meta.get_fields():
            described = (getattr(field, "help_text", ""), getattr(field, "verbose_name", ""))
            text = " ".join([field.name, *map(str, described)])
            if FORBIDDEN.search(text) and (
                f"{model.__name__}.{field.name}" not in SIGN_IN_THROTTLE_FIELDS
            ):
                offenders.append(f"{model.__name__}.{field.name}")
    assert not offenders, f"PRIVACY.md forbids these fields: {offenders}"


def test_no_model_of_people_beyond_accounts_and_incident_persons():
    offenders = [
        m.__name__
        for m in _models()
        if PERSON_WORDS.search(m.__name__) and m.__name__ not in ALLOWED_INCIDENT_PERSON_MODELS
    ]
    assert not offenders, f"models of people outside one incident: {offenders}"


def test_incident_persons_if_present_belong_to_exactly_one_incident():
    for name in ALLOWED_INCIDENT_PERSON_MODELS:
        try:
            model = apps.get_model("facility_log", name)
        except LookupError:
            continue
        incident = model._meta.get_field("incident")
        assert incident.many_to_one and not incident.null


def test_privacy_statement_states_the_line():
    text = (ROOT / "PRIVACY.md").read_text()
    for phrase in (
        "social-media",
        "facial recognition",
        "location",
        "profiles",
        "What is stored",
        "Who sees it",
        "How long",
    ):
        assert phrase.lower() in text.lower(), phrase


# --- the promise as behaviour: what pages, API and admin actually list ----------------------

# Distinctive strings of the persons, vehicles and statements recorded in incidents at A and B.
PERSON = {"role": "witness", "name": "Quentin Zebulon", "contact": "qz@example.org"}
STATEMENT = "Zebrafish statement: he left by the gate"
VEHICLE = {"registration": "ZB-9876", "make_model": "Zorblax van"}
SUPPLEMENT = "Zanzibar supplement: second witness statement"
SECRETS = [
    PERSON["name"],
    PERSON["contact"],
    STATEMENT,
    VEHICLE["registration"],
    VEHICLE["make_model"],
    SUPPLEMENT,
]


def _incidents_with_people(p) -> list:
    """A submitted incident at A and one at B, each with a person, a statement, a vehicle
    and a supplement."""
    import uuid

    from facility_log.services import incidents as svc
    from tests.incident_factories import category

    made = []
    for site, zone, author in ((p.site_a, p.zone_a, p.guard_a), (p.site_b, p.zone_b, p.manager_ab)):
        incident, _ = svc.create_incident(
            author,
            site=site,
            client_uuid=uuid.uuid4(),
            category=category("Theft"),
            zone=zone,
            title="Bicycle taken",
            narrative="A bicycle was taken from the rack.",
            persons=[{**PERSON, "statement": STATEMENT}],
            vehicles=[VEHICLE],
        )
        incident = svc.submit_incident(incident, author)
        svc.add_supplement(incident, author, text=SUPPLEMENT, reason="more detail")
        made.append(incident)
    return made


def _leaks(body: str, searched: str = "") -> list[str]:
    """The secrets in `body`, but for the term searched (a search box shows it back)."""
    return [secret for secret in SECRETS if secret in body and secret != searched]


def _body(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


@pytest.mark.django_db
def test_no_admin_list_shows_persons_vehicles_or_statements(personas, client_for):
    from django.contrib import admin

    incidents = _incidents_with_people(personas)
    client = client_for("admin")
    listed = 0
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        base = f"/admin/{opts.app_label}/{opts.model_name}/"
        queries = [""] + (["?q=Zebulon", "?q=ZB-9876"] if model_admin.search_fields else [])
        for query in queries:
            response = client.get(base + query)
            assert response.status_code == 200, base + query
            assert not _leaks(_body(response), query.partition("=")[2]), base + query
            listed += 1
    assert listed > 25
    # They are the incident's own data, shown on that incident's page.
    page = _body(client.get(f"/admin/facility_log/incident/{incidents[0].pk}/change/"))
    assert set(_leaks(page)) == set(SECRETS)


@pytest.mark.django_db
def test_no_page_or_api_list_shows_persons_vehicles_or_statements(personas, client_for):
    from django.urls import reverse

    from tests.cross_site import LIST_URLS

    incidents = _incidents_with_people(personas)
    client = client_for("manager_ab")
    for name in sorted(LIST_URLS):
        url = reverse(name)
        for query in ("", "?text=Zebulon", "?search=Zebulon", "?q=ZB-9876"):
            response = client.get(url + query)
            assert response.status_code in (200, 400), url + query
            assert not _leaks(_body(response), query.partition("=")[2]), url + query
    # The incident search does not find a person, a statement or a plate ...
    api = "/api/v1/incidents/?text="
    assert len(client.get(api + "Bicycle").json()["results"]) == 2
    for term in ("Zebulon", "Zebrafish", "ZB-9876"):
        assert len(client.get(api + term).json()["results"]) == 0, term
    # ... and each incident's own detail shows them: the data is there, per incident.
    for incident in incidents:
        detail = _body(client.get(f"/api/v1/incidents/{incident.pk}/"))
        assert {PERSON["name"], STATEMENT, VEHICLE["registration"]} <= set(_leaks(detail))


def test_the_api_has_no_route_listing_persons_vehicles_or_supplements():
    from facility_log.api.urls import router
    from facility_log.models import InvolvedPerson, PropertyItem, Supplement, Vehicle

    parts = {InvolvedPerson, Vehicle, PropertyItem, Supplement}
    for prefix, viewset, _basename in router.registry:
        model = getattr(getattr(viewset, "queryset", None), "model", None)
        serializer = getattr(viewset, "serializer_class", None)
        serialized = getattr(getattr(serializer, "Meta", None), "model", None)
        assert model not in parts and serialized not in parts, prefix


# --- the cardholder search covers one site ----------------------------------------------------


@pytest.fixture
def ana_at_a_and_b(personas):
    from tests.access.helpers import door, ingest, row

    for site, zone in ((personas.site_a, personas.zone_a), (personas.site_b, personas.zone_b)):
        door(site, zone)
        ingest(site, [row(external_id=f"ana-{site.code}", cardholder="Ana Ruiz")])


def _csv_ids(response) -> list[str]:
    import csv
    import io

    return [r["external_id"] for r in csv.DictReader(io.StringIO(_body(response)))]


@pytest.mark.django_db
def test_a_manager_of_two_sites_cannot_search_a_cardholder_across_both(
    ana_at_a_and_b, client_for, api_client_for
):
    page = client_for("manager_ab")
    assert sorted(_csv_ids(page.get("/access/events/?format=csv"))) == ["ana-ALPHA", "ana-BRAVO"]

    refused = page.get("/access/events/?cardholder=Ana")
    assert "Choose one site" in _body(refused) and "ana-" not in _body(refused)
    assert _csv_ids(page.get("/access/events/?format=csv&cardholder=Ana")) == []
    one_site = page.get("/access/events/?format=csv&site=BRAVO&cardholder=Ana")
    assert _csv_ids(one_site) == ["ana-BRAVO"]

    api = api_client_for("manager_ab")
    response = api.get("/api/v1/access-events/?cardholder=Ana")
    assert response.status_code == 422 and "cardholder" in response.json()
    results = api.get("/api/v1/access-events/?cardholder=Ana&site=ALPHA").json()["results"]
    assert [event["external_id"] for event in results] == ["ana-ALPHA"]


@pytest.mark.django_db
def test_someone_with_one_site_searches_a_cardholder_there(ana_at_a_and_b, client_for):
    response = client_for("guard_a").get("/access/events/?format=csv&cardholder=Ana")
    assert _csv_ids(response) == ["ana-ALPHA"]


# --- credentials: a keyed hash, and at most a 2-character hint -------------------------------


@pytest.mark.django_db
def test_credentials_are_kept_only_as_keyed_hash_and_a_short_hint(
    personas, client_for, api_client_for
):
    from facility_log.models import AccessEvent
    from tests.access.helpers import door, ingest, row

    door(personas.site_a, personas.zone_a)
    credentials = {"c-4": "4711", "c-7": "7654321", "c-8": "80706050", "c-12": "120000009999"}
    ingest(
        personas.site_a,
        [
            row(line=n + 2, external_id=k, credential=v)
            for n, (k, v) in enumerate(credentials.items())
        ],
    )
    hints = dict(AccessEvent.objects.values_list("external_id", "credential_hint"))
    assert hints == {"c-4": "", "c-7": "", "c-8": "50", "c-12": "99"}
    for values in AccessEvent.objects.values():
        stored = " ".join(str(v) for v in values.values())
        assert not any(c in stored for c in credentials.values())
    shown = [
        _body(client_for("manager_ab").get("/access/events/")),
        _body(client_for("manager_ab").get("/access/events/?format=csv")),
        _body(api_client_for("manager_ab").get("/api/v1/access-events/")),
        _body(
            client_for("admin").get(
                f"/admin/facility_log/accessevent/{AccessEvent.objects.first().pk}/change/"
            )
        ),
    ]
    for body in shown:
        assert not any(c in body for c in credentials.values())
        assert not any(e.credential_hash in body for e in AccessEvent.objects.all())


def test_privacy_statement_says_what_the_code_does():
    from facility_log.services.credentials import HINT_LENGTH, HINT_MIN_CREDENTIAL

    text = " ".join((ROOT / "PRIVACY.md").read_text().split())
    assert f"last {HINT_LENGTH} characters" in text
    assert f"shorter than {HINT_MIN_CREDENTIAL} characters" in text
    assert "last 4" not in text
    assert "searched by cardholder at one site at a time" in text
    assert "only on that incident's page" in text


# --- the visitor day sheet: one site and one day, never a register -----------------------------


def test_a_visitor_is_a_row_of_one_site_and_one_day_with_no_person_record():
    from facility_log.models import Visitor

    site, day = Visitor._meta.get_field("site"), Visitor._meta.get_field("day")
    assert site.many_to_one and not site.null and not day.null
    # No link to another visit or to a person: only the site and the staff who signed.
    links = {f.name for f in Visitor._meta.get_fields() if f.is_relation}
    assert links == {"site", "signed_in_by", "signed_out_by"}
    from django.contrib import admin

    assert not admin.site.is_registered(Visitor)


@pytest.mark.django_db
def test_no_page_or_api_finds_a_visitor_by_name_across_days(personas, client_for, api_client_for):
    from facility_log.services import visitors
    from tests.retention_helpers import ago, clock_at

    with clock_at(ago(2)):
        gone = visitors.sign_in_visitor(personas.site_a, personas.guard_a, name="Xaver Q", host="H")
        visitors.sign_out_visitor(gone, personas.guard_a)
    today = visitors.local_today(personas.site_a)
    code = personas.site_a.code
    page, api = client_for("manager_ab"), api_client_for("manager_ab")
    for query in ("?name=Xaver", "?search=Xaver", "?q=Xaver"):
        for url in (f"/sites/{code}/visitors/{today}/", f"/sites/{code}/visitors/on-site/"):
            assert "Xaver Q" not in _body(page.get(url + query)), url + query
        for url in (
            f"/api/v1/sites/{code}/visitors/{today}/",
            f"/api/v1/sites/{code}/visitors/on-site/",
        ):
            assert api.get(url + query).status_code == 400, url + query
    # Only the sheet of that site and that day shows the visit.
    assert "Xaver Q" in _body(page.get(f"/sites/{code}/visitors/{gone.day}/"))


def test_privacy_statement_says_the_visitor_sheet_is_one_site_and_one_day():
    text = " ".join((ROOT / "PRIVACY.md").read_text().split())
    assert "One site and one day at a time" in text
    assert "No page or API finds a visitor by name across days or sites" in text
    assert "the admin has no visitor list" in text
