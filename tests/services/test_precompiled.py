"""A precompiled query refuses None in a slot: its SQL says `= %s`, where the ORM would have
written IS NULL, so a None would silently match nothing instead of what the queryset meant."""

import pytest

from facility_log.api.authentication import _TOKEN
from facility_log.models.accounts import hash_token
from facility_log.services.accounts import issue_api_token


def test_a_slot_given_none_is_refused_not_run(personas):
    with pytest.raises(ValueError, match="cannot take None"):
        _TOKEN.first("token", key_hash=None)


def test_the_same_query_finds_the_token_its_value_names(personas):
    token, key = issue_api_token(personas.guard_a, personas.manager_ab, reason="tablet")
    assert _TOKEN.first("token", key_hash=hash_token(key)).pk == token.pk
    assert _TOKEN.first("token", key_hash=hash_token(key + "x")) is None


def test_queries_run_together_read_what_each_reads_alone(personas, django_assert_num_queries):
    from django.db import connection

    from facility_log.api.incidents.detail import RELATED
    from facility_log.services.precompiled import all_together
    from tests.incident_factories import seed_site_a_incident

    incident = seed_site_a_incident(personas)
    alone = [query.all("detail", incident=incident.pk) for query in RELATED.values()]
    reads = [(query, "detail", {"incident": incident.pk}) for query in RELATED.values()]
    one_trip = connection.vendor == "postgresql"
    with django_assert_num_queries(1 if one_trip else len(reads)):
        together = all_together(reads)
    assert [[(type(r), r.pk) for r in rows] for rows in together] == [
        [(type(r), r.pk) for r in rows] for rows in alone
    ]
    assert together[0] and together[3] and together[4]  # persons, statements, photos
    assert together[3][0].author.username == "guard_a"  # with its author, read in the row


def _sites_by_code(extra_slot: bool, strict: bool = True):
    """Sites by code; with `extra_slot`, a slot the queryset never uses (a filter a builder
    forgot, say), whose value would be dropped with its condition."""
    from facility_log.models import Site
    from facility_log.services.precompiled import PrecompiledQuery, Slot

    code = Site._meta.get_field("code")
    slots = {"code": Slot("\x1fsentinel code\x1f", code)}
    if extra_slot:
        slots["also"] = Slot("\x1fsentinel also\x1f", code)
    return PrecompiledQuery(
        lambda key, code, **_: Site.objects.filter(code=code), slots, strict=strict
    )


def test_a_value_its_compiled_query_has_no_place_for_is_refused(personas):
    query = _sites_by_code(extra_slot=True)
    with pytest.raises(ValueError, match=r"\['also'\] are not parameters"):
        query.all(None, code="ALPHA", also="BRAVO")


def test_the_values_its_compiled_query_takes_are_read(personas):
    """The legitimate path: the slots the SQL uses, the sites they name."""
    query = _sites_by_code(extra_slot=True)
    assert [site.code for site in query.all(None, code="ALPHA")] == ["ALPHA"]
    assert [site.code for site in _sites_by_code(False).all(None, code="BRAVO")] == ["BRAVO"]
    # Not strict: a value the key's shape does not use is ignored (several reads given one
    # set of values, as services/shift_report_reads.py gives them).
    lenient = _sites_by_code(extra_slot=True, strict=False)
    assert [site.code for site in lenient.all(None, code="ALPHA", also="BRAVO")] == ["ALPHA"]


def test_the_shapes_kept_are_the_most_recently_used(personas):
    from facility_log.services.precompiled import CompiledShapes

    query, shapes = _sites_by_code(extra_slot=False), CompiledShapes()
    for key in ("a", "b", "c"):
        assert shapes.admit(key, 2, query)
        assert [s.code for s in query.all(key, code="ALPHA")] == ["ALPHA"]
    assert list(shapes) == ["b", "c"]  # "a" was forgotten, with what it compiled
    assert {key for _using, key in query._compiled} == {"b", "c"}
    assert shapes.admit("b", 2, query)  # used again: now the most recent
    assert shapes.admit("d", 2, query)
    assert list(shapes) == ["b", "d"]
    assert not shapes.admit("e", 0, query)  # a limit of 0 compiles nothing


def test_converters_found_once_convert_every_later_read_as_django_does(personas):
    """The converters of a compiled select list are found on the first read and kept (per
    connection): later reads of other rows still give converted values (time stamps as
    aware datetimes on SQLite too) exactly as the queryset gives them."""
    from facility_log.models import RecordView
    from facility_log.services import view_log
    from facility_log.services.precompiled import PrecompiledQuery, Slot, _converters
    from tests.incident_factories import seed_site_a_incident

    field = RecordView._meta.get_field("object_pk")
    query = PrecompiledQuery(
        lambda key, object_pk: (
            RecordView.objects.filter(object_pk=object_pk).select_related("site").order_by("pk")
        ),
        {"object_pk": Slot("\x1fsentinel pk\x1f", field)},
    )
    first, second = seed_site_a_incident(personas), seed_site_a_incident(personas)
    for incident in (first, second, first, second):
        view_log.incident_read(personas.manager_ab, incident)
        rows = query.all(None, object_pk=str(incident.pk))
        orm = list(RecordView.objects.filter(object_pk=str(incident.pk)).order_by("pk"))
        assert [(r.pk, r.viewed_at, r.site.code) for r in rows] == [
            (r.pk, r.viewed_at, r.site.code) for r in orm
        ]
        assert rows and all(r.viewed_at.tzinfo is not None for r in rows)
    # Another list of expressions than the compiled select list is asked of Django.
    compiler = query._compiler(None, "default", {"object_pk": str(first.pk)})
    kept = _converters(query._compiled[("default", None)], compiler)
    other = [s[0] for s in compiler.select[::-1]]
    assert kept(other).keys() == type(compiler).get_converters(compiler, other).keys()
