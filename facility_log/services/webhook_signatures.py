"""Checking a signed webhook: the signature as each vendor documents it, and freshness.

Every signed webhook is refused unless it is fresh: where the vendor signs a timestamp (UniFi
Access, Verkada) it must be within `FRESHNESS` of this server's clock; where it signs only the
body (Kisi), the event's own time must be within `EVENT_REPLAY_WINDOW`, and inside that window
a replay is recognised by the event's own id (stored once, reported as a duplicate). A refusal
says why (`WebhookRefused.reason`), so an integrator can tell a wrong secret from a slow clock.

Schemes (docs/integrations.md cites the vendors' documents):
- UniFi Access: `Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`;
- Verkada: `Verkada-Signature: <unix seconds>|<hex HMAC-SHA256 of "<raw body>|<t>">`;
- Kisi: `X-Signature: <hex HMAC-SHA256 of the raw body>` (a `sha256=` prefix is tolerated).
"""

import hashlib
import hmac
import time
from datetime import timedelta

FRESHNESS = timedelta(minutes=5)
# Kisi signs no timestamp: the event's own `created_at` must be this recent. Much longer than
# FRESHNESS because it is the event's time, not the delivery's: a controller offline for a few
# hours delivers its backlog late, and Kisi retries failed deliveries. Inside the window a
# replay is recognised by the event's id; outside it, a signed body is refused.
EVENT_REPLAY_WINDOW = timedelta(hours=48)


class WebhookRefused(Exception):
    """The body is not stored: `reason` is a stable code, `message` says it for people."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason, self.message = reason, message


def _hmac_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _fresh(timestamp: int, now: float | None) -> None:
    now = time.time() if now is None else now
    age = now - timestamp
    if abs(age) > FRESHNESS.total_seconds():
        direction = "old" if age > 0 else "in the future"
        raise WebhookRefused(
            "stale_timestamp",
            f"The signed timestamp {timestamp} is {abs(int(age))} s {direction}; at most "
            f"{int(FRESHNESS.total_seconds())} s is accepted (check the sender's clock).",
        )


def _timestamp(text: str, header: str) -> int:
    if not text.strip().isdigit():
        raise WebhookRefused("malformed_signature", f"{header} has no numeric timestamp.")
    return int(text)


def verify_unifi(secret: str, header: str, body: bytes, now: float | None = None) -> int:
    """Check a UniFi Access `Signature` header; return its signed timestamp (Unix seconds)."""
    if not header.strip():
        raise WebhookRefused("missing_signature", "The Signature header is missing.")
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        name, _, value = item.strip().partition("=")
        parts.setdefault(name, []).append(value.strip())
    timestamp = _timestamp((parts.get("t") or [""])[0], "Signature")
    expected = _hmac_hex(secret, f"{timestamp}.".encode() + body)
    if not any(hmac.compare_digest(expected, given.lower()) for given in parts.get("v1", [])):
        raise WebhookRefused("bad_signature", "The Signature does not match this body.")
    _fresh(timestamp, now)
    return timestamp


def verify_verkada(secret: str, header: str, body: bytes, now: float | None = None) -> int:
    """Check a `Verkada-Signature` header; return its signed timestamp (Unix seconds)."""
    if not header.strip():
        raise WebhookRefused("missing_signature", "The Verkada-Signature header is missing.")
    stamp, _, given = header.strip().partition("|")
    timestamp = _timestamp(stamp, "Verkada-Signature")
    expected = _hmac_hex(secret, body + b"|" + str(timestamp).encode())
    if not hmac.compare_digest(expected, given.strip().lower()):
        raise WebhookRefused("bad_signature", "The Verkada-Signature does not match this body.")
    _fresh(timestamp, now)
    return timestamp


def verify_kisi(secret: str, header: str, body: bytes) -> None:
    """Check a Kisi `X-Signature` header (HMAC of the raw body, hex)."""
    if not header.strip():
        raise WebhookRefused("missing_signature", "The X-Signature header is missing.")
    expected = _hmac_hex(secret, body)
    if not hmac.compare_digest(expected, header.strip().removeprefix("sha256=").lower()):
        raise WebhookRefused("bad_signature", "The X-Signature does not match this body.")


def check_event_recent(occurred_at, now, where: str) -> None:
    """For a vendor that signs no timestamp: refuse an event older than the replay window."""
    if occurred_at is not None and now - occurred_at > EVENT_REPLAY_WINDOW:
        hours = EVENT_REPLAY_WINDOW.total_seconds() / 3600
        raise WebhookRefused(
            "stale_event",
            f"{where} happened more than {hours:g} h ago: a signed body that old is refused "
            "as a possible replay (import old events as a file instead).",
        )
