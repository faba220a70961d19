"""A campaign's results (issue 10 item 6): a survey's answer distribution per question
folded from the recorded Contact.Answered events (every answer of the closed set, 未识别
for an answer not recognised), the export's column per question, the same after a rebuild
of the read model, the answers on the campaign topic without the citizens' words; the
notifications confirmed heard and the broadcasts handed to a person."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from adapters.bootstrap import Engine
from adapters.campaigns import EXPORT_HEADER, CampaignDesk, desk
from adapters.kafka.avro import decode
from adapters.kafka.campaign_records import campaign_schema
from adapters.kafka.relay import Relay, make_producer
from adapters.kafka.topics import ensure_topics
from domain.campaign.dialogue import HEARD, REPEAT, UNRECOGNISED, Answered, Confirmed, HandOff
from tests.conftest import SimClock
from tests.support.kafka import TansuBroker
from tests.test_campaign_progress import CENTRE, people_file
from tests.test_campaign_service import Gateway
from tests.test_cli import REPO
from tests.test_kafka_relay import consume_all, unique

SURVEY = REPO / "tests" / "fixtures" / "campaign" / "垃圾分类调查.toml"
# What each of the four contacts answered (the fourth is busy on the first call).
SAID = [
    [("q1", "满意", "满意的"), ("q3", "是", "是的每天都分")],
    [("q1", "不满意", "不满意，我电话13800138002"), ("q2", "设施不足", "桶太少"),
     ("q3", "否", "没有")],
    [("q1", UNRECOGNISED, "嗯这个嘛"), ("q3", "是", "是")],
]


def surveyed(engine: Engine, clock: SimClock, tmp_path: Path) -> tuple[CampaignDesk, str]:
    campaigns = desk(engine)
    ref = campaigns.execute("create_campaign", actor=CENTRE, kind="survey", name="垃圾分类满意度",
                            script=SURVEY)["campaign_id"]
    campaigns.execute("import_contacts", ref, actor=CENTRE, file=people_file(tmp_path))
    campaigns.execute("start_campaign", ref, actor=CENTRE)
    gateway = Gateway()
    campaigns.tick(gateway)
    for (who, call), answers in zip(gateway.calls, SAID, strict=False):
        campaigns.service.record_outcome(who, call_id=call, outcome="已接通", entries=[
            Answered(question, answer, words) for question, answer, words in answers])
    who, call = gateway.calls[3]
    campaigns.service.record_outcome(who, call_id=call, outcome="忙", detail="SIP 486")
    clock.advance(minutes=10)
    retry = Gateway()
    campaigns.tick(retry)
    (who, call), = retry.calls
    campaigns.service.record_outcome(who, call_id=call, outcome="已接通", entries=[
        Answered("q1", "基本满意", "还行吧")])
    return campaigns, ref


def test_answer_distribution_and_export(sqlite_engine: Engine, clock: SimClock,
                                        tmp_path: Path) -> None:
    campaigns, ref = surveyed(sqlite_engine, clock, tmp_path)
    status = campaigns.execute("campaign_status", ref, actor=CENTRE)
    assert status["answers"] == {
        "q1": {"满意": 1, "基本满意": 1, "不满意": 1, UNRECOGNISED: 1},
        "q2": {"清运不及时": 0, "设施不足": 1, "其他": 0},
        "q3": {"是": 2, "否": 1}}
    assert (status["reached"], status["answered"], status["completed"], status["dialled"]) == (
        4, 4, 4, 5)
    sqlite_engine.runners["campaign_progress"].rebuild()
    assert campaigns.execute("campaign_status", ref, actor=CENTRE) == status
    out = tmp_path / "results.csv"
    seen: list[tuple[int, int]] = []
    assert campaigns.execute("export_campaign", ref, actor=CENTRE, file=out,
                             on_progress=lambda done, total: seen.append((done, total))
                             )["exported"] == 4
    assert seen == [(4, 4)]  # one page of contacts (the CLI's bar on a terminal)
    rows = list(csv.reader(out.open(encoding="utf-8-sig")))
    assert rows[0] == [*EXPORT_HEADER, "q1 您对小区垃圾分类工作满意吗？", "q2 您最不满意的是哪方面？",
                       "q3 您家是否每天都做垃圾分类？"]
    assert [r[-3:] for r in rows[1:]] == [["满意", "", "是"], ["不满意", "设施不足", "否"],
                                          [UNRECOGNISED, "", "是"], ["基本满意", "", ""]]
    assert "13800138002" not in out.read_text(encoding="utf-8-sig")


def test_answers_on_the_campaign_topic_without_words(sqlite_engine: Engine, clock: SimClock,
                                                     kafka_broker: TansuBroker,
                                                     tmp_path: Path) -> None:
    _, ref = surveyed(sqlite_engine, clock, tmp_path)
    topic, campaign_topic = unique("rexian.workorder.events.t"), unique("rexian.campaign.events.t")
    ensure_topics(kafka_broker.bootstrap, {topic: 1, campaign_topic: 2})
    producer = make_producer(kafka_broker.bootstrap)
    try:
        Relay(sqlite_engine.service, sqlite_engine.db, producer, topic=topic,
              campaign_topic=campaign_topic, name=unique("relay")).run_until_caught_up()
    finally:
        producer.close()
    values = [decode(campaign_schema(), r.value)
              for r in consume_all(kafka_broker.bootstrap, campaign_topic, 30)]
    answered = [json.loads(v["payload_json"]) for v in values if v["event_type"] == "Answered"]
    assert sorted((a["question"], a["answer"]) for a in answered) == sorted(
        [(q, a) for said in SAID for q, a, _ in said] + [("q1", "基本满意")])
    assert all("transcript" not in a for a in answered)
    blob = "".join(v["payload_json"] for v in values)
    for words in ("桶太少", "13800138002", "还行吧", "嗯这个嘛"):
        assert words not in blob
    assert {v["campaign_id"] for v in values} == {ref}


def test_heard_and_handed_off(sqlite_engine: Engine, clock: SimClock, tmp_path: Path) -> None:
    campaigns = desk(sqlite_engine)
    counts: dict[str, tuple[int, int, int]] = {}
    for kind, entries in (
            ("notification", [[Confirmed(True, HEARD, "听清楚了", 0)],
                              [Confirmed(False, UNRECOGNISED, "啥", 1)],
                              [Confirmed(False, REPEAT, "再听一遍", 1),
                               Confirmed(True, HEARD, "听清楚了", 1)]]),
            ("broadcast", [[HandOff("市民要求转人工", "我要人工")], [], []])):
        ref = campaigns.execute("create_campaign", actor=CENTRE, kind=kind, name=f"{kind}样例",
                                message="新补贴三天后生效")["campaign_id"]
        campaigns.execute("import_contacts", ref, actor=CENTRE, file=people_file(tmp_path))
        campaigns.execute("start_campaign", ref, actor=CENTRE)
        gateway = Gateway()
        campaigns.tick(gateway)
        for (who, call), said in zip(gateway.calls, entries, strict=False):
            campaigns.service.record_outcome(who, call_id=call, outcome="已接通", entries=said)
        status = campaigns.execute("campaign_status", ref, actor=CENTRE)
        counts[kind] = (status["reached"], status["heard"], status["handed_off"])
    assert counts == {"notification": (3, 2, 0), "broadcast": (3, 0, 1)}
