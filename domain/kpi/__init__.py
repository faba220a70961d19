"""The centre's KPIs: defined once (registry.py), counted by projections/kpi_facts.py."""
