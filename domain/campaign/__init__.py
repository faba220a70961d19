"""Outbound campaigns (批量外呼): the Campaign and Contact aggregates, their machines,
pacing and retry rules, the campaign command catalogue and handlers."""
