"""What a campaign gets when its creator says nothing: the kinds, calling windows, pacing
and retry intervals. Plain data, so the catalogue (and every CLI start-up) imports only
this and the state names."""

from __future__ import annotations

from domain.campaign.states import BUSY, NO_ANSWER, POWERED_OFF, REJECTED

KINDS = ("notification", "broadcast", "survey")
KIND_LABELS = {"notification": "事项通知", "broadcast": "政策宣导", "survey": "民意调研"}
DEFAULT_WINDOWS = ("09:00-12:00", "14:00-20:00")
DEFAULT_LINES = 10
DEFAULT_PER_MINUTE = 30
DEFAULT_BUDGET = 2
# Minutes before the next try; None: never again. A busy line is tried sooner than a
# phone nobody answers; a citizen who declined is not called again by default.
DEFAULT_AFTER: dict[str, int | None] = {NO_ANSWER: 30, BUSY: 10, POWERED_OFF: 60, REJECTED: None}
# Seconds a dial's claim on its contact lasts (longer than any call, ring included): after
# that, a call with no outcome is taken for one whose dialler died.
DEFAULT_LEASE_S = 600.0
