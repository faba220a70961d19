"""Campaign events on their own topic (rexian.campaign.events): the records the relay
(adapters/kafka/relay.py) sends for the Campaign and Contact aggregates
(domain/campaign/), with the work-order topic's conventions: Avro envelope
(schemas/campaign_event.avsc), deterministic event ids, the same four headers.

Key = the campaign's id, so a campaign's events and all its contacts' land in one
partition, in log order. Nothing personal is sent: the sealed `personal` token and the
`citizen_id` (domain.views.PERSONAL_FIELDS) and the citizens' words (`transcript`) are
left out of the payload.
"""

from __future__ import annotations

from typing import Any, Final
from uuid import UUID

from eventsourcing.application import Application

from adapters.kafka import HEADER_EVENT_ID, HEADER_EVENT_TYPE, HEADER_POSITION, HEADER_SCHEMA
from adapters.kafka.avro import parsed_schema, schema_header, state_envelope
from adapters.kafka.flat_avro import record_writer

CAMPAIGN_SCHEMA_FILE: Final = "campaign_event.avsc"
# The aggregates' modules (their events' topics): domain/campaign/campaign.py, contact.py.
CAMPAIGN_MODULES: Final = frozenset({"domain.campaign.campaign", "domain.campaign.contact"})
# Free text a citizen said: masked in the store, never published.
NOT_PUBLISHED: Final = frozenset({"transcript"})


def campaign_schema() -> Any:
    return parsed_schema(CAMPAIGN_SCHEMA_FILE)


def is_campaign_event(event: Any) -> bool:
    return is_campaign_class(type(event))


def is_campaign_class(cls: type) -> bool:
    return cls.__module__ in CAMPAIGN_MODULES


class CampaignRecords:
    """Encodes campaign and contact events; which campaign an aggregate belongs to is read
    from its first event (cached): a contact's Imported names its campaign."""

    def __init__(self, app: Application, max_entries: int = 200_000) -> None:
        self.app = app
        self.max_entries = max_entries
        self._write = record_writer(campaign_schema())
        self._schema_header = (HEADER_SCHEMA, schema_header(CAMPAIGN_SCHEMA_FILE))
        self._refs: dict[UUID, tuple[str, str | None]] = {}

    def refs(self, event: Any) -> tuple[str, str | None]:
        """(campaign id, contact id or None) of the event's aggregate."""
        return self.refs_of(event.originator_id, event.originator_version, event.__dict__)

    def refs_of(self, oid: UUID, version: int, state: dict[str, Any]) -> tuple[str, str | None]:
        """refs() from the event's aggregate id, version and state."""
        known = self._refs.get(oid)
        if known is None:
            first = state if version == 1 else next(iter(self.app.events.get(oid, lte=1))).__dict__
            known = ((first["campaign_ref"], first["ref"]) if "campaign_ref" in first
                     else (first["ref"], None))
            if len(self._refs) >= self.max_entries:
                self._refs.clear()
            self._refs[oid] = known
        return known

    def record(self, event: Any, position: int) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
        state = event.__dict__
        return self.record_of(event.originator_id, event.originator_version, state,
                              type(event).__name__, position)

    def record_of(self, oid: UUID, version: int, state: dict[str, Any], event_type: str,
                  position: int) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
        """record() from the event's aggregate id, version, state (an event's __dict__ or
        adapters.kafka.stored's decoded state) and class name."""
        campaign_id, contact_id = self.refs_of(oid, version, state)
        fields = state_envelope(state, event_type, str(oid), version, state["timestamp"],
                                position, None, NOT_PUBLISHED)  # the work orders' shape
        del fields["ticket_no"]
        fields.update(aggregate="contact" if contact_id else "campaign", campaign_id=campaign_id,
                      contact_id=("string", contact_id) if contact_id is not None else None)
        headers = [(HEADER_EVENT_ID, fields["event_id"].encode()),
                   (HEADER_EVENT_TYPE, fields["event_type"].encode()),
                   (HEADER_POSITION, str(position).encode()), self._schema_header]
        return campaign_id.encode(), self._write(fields), headers
