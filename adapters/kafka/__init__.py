"""Kafka adapters: the domain-event relay (campaigns on a topic of their own), the
telephony consumer, and their Avro schemas.

Kafka is optional: nothing here is imported unless `rexian serve --kafka HOST:PORT`
(or the standalone relay) asks for it. Schemas live next to this file in `schemas/`.
"""

WORKORDER_TOPIC = "rexian.workorder.events"
TELEPHONY_TOPIC = "rexian.telephony.events"
CAMPAIGN_TOPIC = "rexian.campaign.events"  # campaigns and their contacts (adapters/kafka/campaign_records.py)

# Record headers set by the relay (values are UTF-8 bytes).
HEADER_EVENT_ID = "event-id"
HEADER_EVENT_TYPE = "event-type"
HEADER_POSITION = "position"
HEADER_SCHEMA = "schema"

__all__ = [
    "CAMPAIGN_TOPIC",
    "HEADER_EVENT_ID",
    "HEADER_EVENT_TYPE",
    "HEADER_POSITION",
    "HEADER_SCHEMA",
    "TELEPHONY_TOPIC",
    "WORKORDER_TOPIC",
]
