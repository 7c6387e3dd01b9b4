"""The SQL a request's captured statements run: a statement prepared once per connection
(services/prepared.py) is captured as `EXECUTE fl_prepared_N(...)`; tests that read which
tables or clauses a request used read the statement's own SQL instead."""

from facility_log.services.prepared import with_statements


def statements_of(captured) -> list[str]:
    """The SQL of each query a `CaptureQueriesContext` captured, prepared ones written out."""
    return [with_statements(query["sql"]) for query in captured.captured_queries]
