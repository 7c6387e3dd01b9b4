"""How far back and ahead a recorded time may be: the plausible window every record from a
device or an integration is held to (access events, rounds, shifts).

Older times are almost always a clock that was reset (1970, 2000-01-01) or a typo (year 1);
stored, they sort as the oldest record, pass retention at once and, for a door event, raise an
alarm about a day nobody lived. Ten years is longer than any retention we know of; an older
archive is a migration, not a feed.
"""

from datetime import timedelta

PLAUSIBLE_PAST = timedelta(days=3653)
# How far ahead an integration's clock may be (any time zone mistake is seen, not stored).
PLAUSIBLE_FUTURE = timedelta(days=1)
