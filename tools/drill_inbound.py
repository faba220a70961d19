"""``rexian drill inbound --question FILE.wav [--question ...] --json``: an inbound call on a
throwaway store, each WAV one turn of the caller's.

1. a temporary SQLite store and a simulation clock (``--now`` or the current time); the
   knowledge base (``--kb FILE``…, default config/kb/*.md) is imported; one order is
   registered from the caller's number (so a progress query has something to read);
2. the call comes in on ``--line`` (default 12345) from ``--caller``: routing first
   (老年一键通 / VIP straight to a person);
3. each WAV is transcribed with whisper.cpp (Whisper base) and handed to the inbound desk,
   which understands it, takes the next step and records the turn;
4. printed: each turn (transcript, intent, step, what the robot said, the article cited)
   and the call's record.
"""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from adapters.bootstrap import build_engine
from adapters.inbound.desk import InboundDesk
from adapters.kb import kb_desk
from adapters.telephony.asr import INBOUND_PROMPT
from domain.kpi.registry import BEIJING
from domain.values import Actor
from tools.sim_clock import SimClock

ROOT = Path(__file__).resolve().parents[1]
DRILL_CALLER = "13800138000"


def run_inbound_drill(questions: list[Path], *, now: datetime | None = None,
                      caller: str = DRILL_CALLER, line: str = "12345",
                      kb_files: list[Path] | None = None,
                      model_path: str | None = None) -> dict[str, Any]:
    from adapters.asr.whisper import WhisperRecognizer

    for path in questions:
        if not Path(path).is_file():
            raise FileNotFoundError(f"question file not found: {path}")
    recognizer = WhisperRecognizer(model_path, prompt=INBOUND_PROMPT)
    start = now or datetime.now(BEIJING)
    with tempfile.TemporaryDirectory(prefix="rexian-drill-") as tmp:
        engine = build_engine(str(Path(tmp) / "rexian.db"), clock=SimClock(start))
        try:
            kb_desk(engine).import_files(kb_files or sorted((ROOT / "config/kb").glob("*.md")),
                                         actor=Actor("admin", "drill"))
            ticket = engine.service.intake(
                channel="电话", category="求助", urgency="一般", region="甬江区",
                content="小区路灯不亮", caller_name="演练来电人", caller_phone=caller,
                actor=Actor("agent", "drill"))
            desk = InboundDesk(engine)
            call = "drill-inbound"
            opened = desk.start(call, caller=caller, line=line)
            turns: list[dict[str, Any]] = [{"said": opened.said, "step": opened.step.kind}]
            ended = opened.ended
            for path in questions:
                if ended:
                    break
                heard = recognizer.transcribe(str(path))
                reply = desk.turn(call, heard.text)
                record = desk.record(call)
                intent = next(t["intent"] for t in reversed(record.turns) if "heard" in t)
                turns.append({"file": str(path), "transcript": heard.text, "intent": intent,
                              "step": reply.step.kind, "said": reply.said,
                              "citation": reply.citation, "reason": reply.step.reason})
                ended = reply.ended
            if not ended:
                desk.hang_up(call, "演练结束")
            return {"ticket_no": ticket, "line": line, "turns": turns,
                    "record": desk.summary(call)}
        finally:
            engine.close()
