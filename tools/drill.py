"""Drills: the whole callback loop in one process, on a throwaway store.

``rexian drill callback --answer FILE.wav --json``:

1. a temporary SQLite store and a simulation clock (start: ``--now`` or the current time);
2. an order is registered (电话, 投诉), dispatched to a unit, signed and resolved;
3. the callback queue schedules the 回访 (next day, within calling hours); the clock jumps
   to that instant;
4. the robot calls the simulated citizen over real WebRTC on loopback; the citizen answers
   with FILE.wav (repeat ``--answer`` for later turns, e.g. silence then an answer);
5. the result goes through the telephony reports into the domain; the final ``show`` JSON
   is printed with the transcript and the intent.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from dataclasses import asdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from adapters.bootstrap import build_engine
from adapters.telephony.asr import AsrPool
from adapters.telephony.dialler import dial_due_async
from adapters.telephony.robot import CallbackRobot
from domain.service import SHANGHAI
from domain.values import Actor
from projections.callback_queue import pending_jobs
from tools.sim_citizen import Citizen, SimulatedGateway
from tools.sim_clock import SimClock

DRILL_PHONE = "13800138000"
DRILL_DEPT = "区城管局"


def run_callback_drill(answers: list[Path], *, now: datetime | None = None,
                       outcome: str = "answered", category: str = "投诉",
                       model_path: str | None = None) -> dict[str, Any]:
    """Run the drill; returns the final view with the call's transcript and intent."""
    for path in answers:
        if not Path(path).is_file():
            raise FileNotFoundError(f"answer file not found: {path}")
    with tempfile.TemporaryDirectory(prefix="rexian-drill-") as tmp:
        return asyncio.run(_drill(Path(tmp) / "rexian.db", answers, now, outcome, category,
                                  model_path))


async def _drill(db: Path, answers: list[Path], now: datetime | None, outcome: str,
                 category: str, model_path: str | None) -> dict[str, Any]:
    started = time.perf_counter()
    start = (now or datetime.now(SHANGHAI)).astimezone(SHANGHAI).replace(second=0,
                                                                          microsecond=0)
    clock = SimClock(start)
    engine = build_engine(str(db), clock=clock)
    gateway = SimulatedGateway({DRILL_PHONE: Citizen(outcome=outcome, answers=tuple(answers))})
    asr = AsrPool(model_path=model_path)
    robot: CallbackRobot | None = None
    try:
        service = engine.service
        agent = Actor("agent", "drill")
        unit = Actor("department", DRILL_DEPT)
        ticket = service.intake(channel="电话", category=category, urgency="一般",
                                region="甬江区东湖街道", content="（演练）小区夜间施工噪音扰民",
                                caller_name="演练市民", caller_phone=DRILL_PHONE, actor=agent)
        service.dispatch(ticket, dept=DRILL_DEPT, assist=[], actor=agent)
        clock.now += timedelta(minutes=10)
        service.sign(ticket, dept=DRILL_DEPT, actor=unit)
        clock.now += timedelta(hours=2)
        service.resolve(ticket, dept=DRILL_DEPT, reply="（演练）已责令施工单位夜间停工", actor=unit)
        engine.catch_up()
        with engine.db.transaction(immediate=False) as cur:
            jobs = pending_jobs(cur, ticket)
        scheduled = jobs[0].due_at if jobs else None
        if scheduled is not None:
            clock.now = max(clock.now, scheduled)
        url = await gateway.start()
        await asr.warm_up()
        robot = CallbackRobot(url, asr)
        setup_s = time.perf_counter() - started
        outcomes = await dial_due_async(engine, robot)
        job = outcomes[0] if outcomes else None
        call = job.call if job else None
        return {
            "ticket_no": ticket,
            "callback_scheduled_at": scheduled.isoformat() if scheduled else None,
            "dial_outcome": job.outcome if job else None,
            "transcript": job.transcript if job else "",
            "intent": job.intent if job else None,
            "result": job.result if job else None,
            "handoff": job.handoff if job else False,
            "actions": job.actions if job else [],
            "turns": [asdict(t) for t in call.turns] if call else [],
            "prompts_played": call.played if call else [],
            "latency_s": round(job.latency_s, 3) if job and job.latency_s is not None else None,
            "setup_s": round(setup_s, 3),
            "total_s": round(time.perf_counter() - started, 3),
            "show": service.show(ticket),
        }
    finally:
        if robot is not None:
            await robot.close()
        await gateway.stop()
        asr.close()
        engine.close()
