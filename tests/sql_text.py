"""The SQL a request's captured statements run: a statement prepared once per connection
(services/prepared.py) is captured as `EXECUTE fl_prepared_N(...)`; tests that read which
tables or clauses a request used read the statement's own SQL instead."""

from facility_log.services.prepared import with_statements


def statements_of(captured) -> list[str]:
    """The SQL of each query a `CaptureQueriesContext` captured, prepared ones written out."""
    return [with_statements(query["sql"]) for query in captured.captured_queries]


def each_statement(captured) -> list[str]:
    """Each statement of each captured query: on PostgreSQL some reads go to the database
    together in one query of several statements (services/read_together.py), the session's
    device and the user's memberships among them (facility_log/signed_in.py)."""
    return [statement for sql in statements_of(captured) for statement in sql.split("; ")]
