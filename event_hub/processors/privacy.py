"""Keep personal data out of backends that have not opted in.

Personal data here is the ``username`` and ``ip`` fields and the members of
``event`` the catalog marks as PII (usernames, emails, full names), plus, whatever
the event type, the top-level members of ``event`` named in :data:`PERSONAL_MEMBERS`
(an event the catalog does not know, or a member it does not declare, is covered
too). Two modes:

* ``drop`` (default): blank them.
* ``pseudonymise``: replace usernames and PII members with keyed digests
  (stable, not reversible without the secret) and keep only the network part
  of the IP address (``/24`` for IPv4, ``/48`` for IPv6).

This processor is appended last to every backend without ``PII: True``, so no
processor configured before it can put personal data back.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import attrs

from event_hub.envelope import Envelope
from event_hub.identity import pseudonym

MODES = ("drop", "pseudonymise")
#: Payload members personal by their name alone, in any event (the tracker adds them to ``pii_fields``).
PERSONAL_MEMBERS = frozenset(
    ("username", "email", "user_email", "full_name", "first_name", "last_name", "ip", "ip_address")
)


class Privacy:
    """Blank or pseudonymise personal data on the envelope."""

    __slots__ = ("mode",)

    def __init__(self, mode: str = "drop") -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        self.mode = mode

    def __call__(self, envelope: Envelope) -> Envelope:
        pii_members = envelope.pii_fields and isinstance(envelope.event, dict)
        if not (envelope.username or envelope.ip or pii_members):
            return envelope
        changes: dict[str, Any] = {}
        if envelope.username:
            changes["username"] = self._username(envelope.username)
        if envelope.ip:
            changes["ip"] = self._ip(envelope.ip)
        if pii_members:
            event = dict(envelope.event)
            for key in envelope.pii_fields:
                if event.get(key) not in (None, ""):
                    event[key] = self._value(event[key])
            changes["event"] = event
        return attrs.evolve(envelope, **changes)

    def _username(self, username: str) -> str:
        return "" if self.mode == "drop" else pseudonym("username", username)

    def _value(self, value: Any) -> Any:
        return "" if self.mode == "drop" else pseudonym("pii", str(value))

    def _ip(self, ip: str) -> str:
        if self.mode == "drop":
            return ""
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return ""
        prefix = 24 if address.version == 4 else 48
        return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False).network_address)
