"""Campaign call outcomes (issue 10 item 5): the gateway's SIP / Q.850 cause read through one
table, and carriers' recorded announcements recognised with the ASR stack.

One campaign runs once for the module over real loopback WebRTC (aiortc, Opus, webrtcvad,
whisper.cpp with the base model) against simulated citizens: some numbers fail with a
cause, some are answered by a carrier's announcement (tests/fixtures/announcements,
rendered by tools/make_announcement_fixtures.py), some by a person. Each test checks one
contact's recorded outcome.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from adapters.bootstrap import Engine, build_engine
from adapters.campaigns import desk
from adapters.telephony.admission import Admission
from adapters.telephony.asr import AsrPool
from adapters.telephony.call_outcomes import from_announcement, from_gateway
from adapters.telephony.campaign_dialler import campaign_job
from adapters.telephony.robot import CallbackRobot
from domain.campaign import states
from domain.service import SHANGHAI
from domain.values import Actor
from tests.conftest import SimClock
from tests.support.whisper import whisper_model
from tools.sim_citizen import Citizen, SimulatedGateway

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "announcements"
MANIFEST = json.loads((FIXTURES / "manifest.json").read_text(encoding="utf-8"))["fixtures"]
CENTRE = Actor("dispatcher", "centre")
MESSAGE = "您好，这里是12345热线。感谢接听，再见。"
# number -> (how it behaves, the outcome the campaign must record)
CAUSES = {
    "13900000404": (Citizen("no_answer", sip_status=404), states.VACANT),
    "13900000480": (Citizen("no_answer", sip_status=480), states.POWERED_OFF),
    "13900000486": (Citizen("no_answer", sip_status=486), states.BUSY),
    "13900000603": (Citizen("busy", sip_status=603), states.REJECTED),
    "13900000054": (Citizen("no_answer", q850_cause=54), states.SUSPENDED),
    "13900000001": (Citizen("busy", q850_cause=1, sip_status=486), states.VACANT),
    "13900000999": (Citizen("no_answer"), states.NO_ANSWER),
}
ANNOUNCED = {f"1370000{n:04d}": (Citizen(answers=[str(FIXTURES / f["file"])], speaks_first=True),
                                 f["outcome"], f["file"]) for n, f in enumerate(MANIFEST)}


@pytest.mark.parametrize(("sip", "q850", "word", "outcome"), [
    (404, None, "no_answer", "空号"), (480, None, "no_answer", "关机"), (486, None, "no_answer", "忙"),
    (603, None, "busy", "拒接"), (None, 1, "no_answer", "空号"), (None, 17, "no_answer", "忙"),
    (None, 19, "busy", "未接通"), (None, 21, "no_answer", "拒接"), (None, 54, "no_answer", "停机"),
    (486, 1, "busy", "空号"), (499, None, "busy", "忙"), (None, None, "停机", "停机"),
])
def test_one_table_maps_causes_before_words(sip: int | None, q850: int | None, word: str,
                                            outcome: str) -> None:
    found = from_gateway(word, sip, q850)
    assert found.outcome == outcome
    assert (f"SIP {sip}" in found.detail) == (sip is not None)


def test_only_carrier_phrasing_counts_as_an_announcement() -> None:
    assert from_announcement("喂，你好") is None
    assert from_announcement("您好，您拨打的电话已关机") == "关机"
    # Scores decide which announcement it was; the transcript only that it was one.
    assert from_announcement("您好您拨打的电话与停心", {"您拨打的电话已停机": -24.0,
                                                   "您拨打的电话已关机": -31.0}) == "停机"
    assert from_announcement("我不知道", {"您拨打的电话已停机": -5.0}) is None


async def _run(engine: Engine, model: Path, folder: Path) -> dict[str, tuple[str, str]]:
    campaigns = desk(engine)
    citizens = {n: c for n, (c, _) in CAUSES.items()} | {n: c for n, (c, _, _) in ANNOUNCED.items()}
    ref = campaigns.execute("create_campaign", actor=CENTRE, kind="notification", name="外呼结果",
                            message=MESSAGE, window=["00:00-24:00"], allow_rest_days=True,
                            lines=len(citizens), per_minute=100)["campaign_id"]
    rows = "\n".join(f"市民{i},{n}" for i, n in enumerate(citizens, 1))
    contacts = folder / "contacts.csv"
    contacts.write_text(f"姓名,电话\n{rows}\n", encoding="utf-8")
    campaigns.execute("import_contacts", ref, actor=CENTRE, file=contacts)
    campaigns.execute("start_campaign", ref, actor=CENTRE)
    gateway = SimulatedGateway(citizens)
    url = await gateway.start()
    asr = AsrPool(model_path=model)
    robot = CallbackRobot(url, asr)
    gate = Admission(asr=None)  # no pacing: the test's calls may all start at once
    placed: list[tuple[str, str]] = []
    try:
        # Every recognizer a call may use, loaded before the first dial: a model loading
        # mid-campaign stalls the other calls' openings.
        await asr.warm_up(("announcement", "answer", "survey"))
        campaigns.tick(lambda contact, call: placed.append((contact, call)))
        await asyncio.gather(*(campaign_job(campaigns, robot, gate, contact, call)
                               for contact, call in placed))
    finally:
        await robot.close()
        await gateway.stop()
        asr.close()
    numbers = list(citizens)  # the file's order: contact number n is numbers[n - 1]
    assert len(placed) == len(numbers)
    result = {}
    for contact_ref, _ in placed:
        contact = campaigns.service.contact(contact_ref)
        last = contact.outcomes[-1]
        result[numbers[contact.number - 1]] = (last["outcome"], last["detail"])
    return result


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[str, str]]]:
    clock = SimClock(datetime(2025, 10, 9, 10, 0, tzinfo=SHANGHAI))
    folder = tmp_path_factory.mktemp("outcomes")
    engine = build_engine(str(folder / "rexian.db"), clock=clock)
    try:
        yield asyncio.run(_run(engine, whisper_model(), folder))
    finally:
        engine.close()


@pytest.mark.parametrize("number", list(CAUSES))
def test_gateway_cause_gives_the_outcome(recorded: dict[str, tuple[str, str]],
                                         number: str) -> None:
    outcome, detail = recorded[number]
    assert outcome == CAUSES[number][1], detail


@pytest.mark.parametrize("number", list(ANNOUNCED), ids=[a[2] for a in ANNOUNCED.values()])
def test_announcement_is_recognised(recorded: dict[str, tuple[str, str]], number: str) -> None:
    outcome, detail = recorded[number]
    assert outcome == ANNOUNCED[number][1], detail
    if outcome == states.CONNECTED:
        assert "message played" in detail  # a person: the robot spoke
    else:
        assert "carrier announcement" in detail
