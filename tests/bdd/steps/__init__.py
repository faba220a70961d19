"""Step definitions, one module per theme. A new theme: add its module to STEP_MODULES."""

from tests.bdd.steps import (
    audit,
    calendar,
    callback,
    campaign,
    closing,
    common,
    deadlines,
    duplicates,
    extension,
    handling,
    inbound,
    intake,
    survey,
)

STEP_MODULES = (common, intake, handling, extension, callback, closing, audit, deadlines,
                calendar, campaign, inbound, duplicates, survey)
