"""Telephony building blocks without whisper: endpointing, prompts, ICE settings, the
signalling protocol, the simulated gateway's failure outcomes and the dialler's error path."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

import aioice.ice
import av
import numpy as np
import pytest
from aiohttp import web

from adapters.asr.whisper import read_wav
from adapters.bootstrap import build_engine
from adapters.telephony import ice
from adapters.telephony.asr import AsrPool
from adapters.telephony.dialler import dial_due_async, prepare_due
from adapters.telephony.media import (
    FRAME_SAMPLES,
    MEDIA_START_S,
    CallEnded,
    Endpointer,
    EndpointSettings,
    InFrame,
    PlayerTrack,
    listen,
    opus_packets,
    to_int16,
)
from adapters.telephony.prompts import PROMPT_DIR, PromptLibrary, number_words
from adapters.telephony.robot import CallbackRobot, CallTask
from adapters.telephony.signalling import (
    DialRequest,
    DialResponse,
    SignallingError,
    gateway_app,
    post_offer,
)
from domain.service import SHANGHAI
from domain.values import Actor
from tests.conftest import SimClock
from tools import make_prompts
from tools.sim_citizen import Citizen, SimulatedGateway, citizen_from, parse_citizen

AUDIO = Path(__file__).resolve().parent / "fixtures" / "audio"


def frames(audio: np.ndarray) -> list[np.ndarray]:
    pcm = to_int16(audio)
    return [pcm[i:i + FRAME_SAMPLES] for i in range(0, pcm.size - FRAME_SAMPLES + 1,
                                                     FRAME_SAMPLES)]


# ----- endpointing -------------------------------------------------------------------
def test_endpointer_finds_the_spoken_answer() -> None:
    speech = read_wav(AUDIO / "dissatisfied_1.wav")  # 0.25 s lead-in, 0.5 s tail
    padded = np.concatenate([np.zeros(8000, np.float32), speech, np.zeros(16000, np.float32)])
    endpointer = Endpointer(EndpointSettings(end_silence_s=0.5))
    done_at = None
    for index, frame in enumerate(frames(padded)):
        if endpointer.feed(frame):
            done_at = index
            break
    assert endpointer.started and done_at is not None
    heard = endpointer.audio().size / 16000
    assert 0.8 < heard < speech.size / 16000 + 0.3
    # It ends about end_silence_s after the speech, not at the end of the input.
    assert done_at * 0.02 < (8000 + speech.size) / 16000 + 0.6


@pytest.mark.parametrize("fixture", ["silence_1.wav", "silence_hiss_1.wav"])
def test_endpointer_ignores_silence_and_line_hiss(fixture: str) -> None:
    endpointer = Endpointer()
    for frame in frames(read_wav(AUDIO / fixture)):
        endpointer.feed(frame)
    assert not endpointer.started and endpointer.audio().size == 0


class FakeInbox:
    """Frames on a schedule (seconds after start); then silence, or the end of the call."""

    def __init__(self, schedule: list[tuple[float, np.ndarray]], ends: bool = False,
                 frames_received: int = 1) -> None:
        self.schedule = schedule
        self.ends = ends
        self.start = time.monotonic()
        self.frames_received = frames_received  # 0: the call's media has not begun

    async def get(self, timeout: float) -> InFrame | None:
        if not self.schedule:
            if self.ends:
                raise CallEnded
            await asyncio.sleep(timeout)
            return None
        due, pcm = self.schedule[0]
        wait = self.start + due - time.monotonic()
        if wait > timeout:
            await asyncio.sleep(timeout)
            return None
        await asyncio.sleep(max(wait, 0))
        self.schedule.pop(0)
        return InFrame(pcm, time.monotonic())


def test_listen_gives_up_when_nobody_speaks() -> None:
    started = time.monotonic()
    audio, _ = asyncio.run(listen(FakeInbox([]), EndpointSettings(no_speech_s=0.3)))  # type: ignore[arg-type]
    assert audio is None and 0.25 < time.monotonic() - started < 1.0


def test_before_media_begins_the_no_speech_window_starts_at_the_first_frame() -> None:
    """The opening of a call: its first frames arrive late (DTLS, a loaded machine); an
    announcement starting with them is heard, not taken for silence."""
    speech = frames(read_wav(AUDIO / "satisfied_1.wav"))
    late = [(1.0 + i * 0.02, f) for i, f in enumerate(speech)]
    settings = EndpointSettings(no_speech_s=0.5, end_silence_s=0.3)
    audio, _ = asyncio.run(listen(FakeInbox(late, frames_received=0), settings))  # type: ignore[arg-type]
    assert audio is not None and audio.size > 8000
    # The same late frames mid-call (media flowing): nobody spoke within the window.
    late = [(1.0 + i * 0.02, f) for i, f in enumerate(speech)]
    audio, _ = asyncio.run(listen(FakeInbox(late), settings))  # type: ignore[arg-type]
    assert audio is None
    # No media at all: given up MEDIA_START_S + no_speech_s after the start.
    started = time.monotonic()
    audio, _ = asyncio.run(listen(FakeInbox([], frames_received=0),  # type: ignore[arg-type]
                                  EndpointSettings(no_speech_s=0.3)))
    assert audio is None
    assert MEDIA_START_S + 0.25 < time.monotonic() - started < MEDIA_START_S + 1.0


def test_listen_ends_on_a_silence_suppressed_gap() -> None:
    """The sender stops sending after its answer (DTX): the wall clock ends the utterance."""
    speech = frames(read_wav(AUDIO / "satisfied_1.wav"))
    schedule = [(i * 0.002, f) for i, f in enumerate(speech[:60])]  # no trailing silence
    audio, _ = asyncio.run(listen(FakeInbox(schedule), EndpointSettings(end_silence_s=0.3)))  # type: ignore[arg-type]
    assert audio is not None and audio.size > 8000


def test_listen_reports_a_hang_up() -> None:
    with pytest.raises(CallEnded):
        asyncio.run(listen(FakeInbox([], ends=True)))  # type: ignore[arg-type]


def test_player_paces_frames_then_a_silent_tail_then_nothing() -> None:
    async def scenario(opus: bool) -> tuple[int, int, float, bool, list[Any]]:
        track = PlayerTrack()
        track.use_opus(opus)
        done = track.play(np.zeros(3200, np.int16) + 1000, tail_s=0.5)  # 0.2 s
        started = time.monotonic()
        count = 0
        kinds = []
        while not done.done():
            kinds.append(type(await track.recv()))
            count += 1
        elapsed = time.monotonic() - started
        assert not track.speaking  # only the tail is left
        tail = 0
        while True:  # the rest of the silent tail, then the track goes quiet
            try:
                await asyncio.wait_for(track.recv(), 0.1)
                tail += 1
            except TimeoutError:
                break
        track.stop()
        return count, tail, elapsed, done.done(), kinds

    count, tail, elapsed, done, kinds = asyncio.run(scenario(False))
    # 0.2 s of audio + the first 0.2 s of the tail before done; 0.3 s of tail after it.
    assert count == 20 and tail == 15 and done
    assert 0.3 < elapsed < 0.8
    assert set(kinds) == {av.AudioFrame}
    count, tail, _, _, kinds = asyncio.run(scenario(True))
    assert set(kinds) == {av.Packet}  # pre-encoded Opus, forwarded as is by aiortc
    assert 20 <= count <= 21 and 15 <= tail <= 16


def test_opus_packets_are_cached_and_decode_back() -> None:
    from aiortc.codecs.opus import OpusDecoder
    from aiortc.jitterbuffer import JitterFrame

    pcm = to_int16(read_wav(AUDIO / "satisfied_1.wav"))
    packets = opus_packets(pcm)
    assert opus_packets(pcm.copy()) is packets
    assert abs(len(packets) - pcm.size / FRAME_SAMPLES) <= 2
    decoder = OpusDecoder()
    decoded = [f for i, p in enumerate(packets)
               for f in decoder.decode(JitterFrame(p, i * 960))]
    assert sum(f.samples for f in decoded) / 48000 == pytest.approx(pcm.size / 16000, abs=0.05)


# ----- prompts -----------------------------------------------------------------------
def test_every_prompt_clip_is_committed() -> None:
    assert make_prompts.main(["--check"]) == 0
    manifest = json.loads((PROMPT_DIR / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["clips"]) == set(make_prompts.CLIPS)
    size = sum(p.stat().st_size for p in PROMPT_DIR.glob("*.ogg"))
    assert size < 600_000  # small enough to commit (~210 clips of 1-3 kB)


@pytest.mark.parametrize(("value", "words"), [
    (1, ["n1"]), (9, ["n9"]), (10, ["n10"]), (15, ["n10", "n5"]), (20, ["n2", "n10"]),
    (23, ["n2", "n10", "n3"]), (31, ["n3", "n10", "n1"]),
])
def test_numerals_for_dates(value: int, words: list[str]) -> None:
    assert number_words(value) == words


def test_numbers_are_read_digit_by_digit_with_yao_for_one() -> None:
    library = PromptLibrary.load()
    assert library.digits("2025100101") == ["n2", "n0", "n2", "n5", "d1", "n0", "n0", "d1",
                                            "n0", "d1"]
    assert library.month_day(date(2025, 12, 31)) == ["n10", "n2", "month", "n3", "n10", "n1",
                                                     "day"]


def test_sentences_are_concatenated_clips() -> None:
    library = PromptLibrary.load()
    question = library.callback_question("举报")
    assert question.clips == ["greet_callback", "your_request", "cat_report", "issue_resolved",
                              "q_satisfied", "q_options"]
    assert "请问您对处理结果满意吗" in question.text and 5 < question.seconds < 15
    assert question.pcm.dtype == np.int16
    assert "cat_" not in "".join(library.callback_question(None).clips)
    found = library.progress("123456", "办理中", date(2025, 10, 21))
    assert found.text == "您查询的工单幺二三四五六当前状态：办理中预计十月二十一日前办结。"
    missing = library.progress("999", None, None)
    assert missing.clips[-1] == "not_found" and missing.clips[1:4] == ["n9", "n9", "n9"]


# ----- ICE ---------------------------------------------------------------------------
def test_ice_never_uses_a_stun_server_and_can_be_held_to_loopback() -> None:
    assert ice.rtc_configuration().iceServers == []
    previous = ice.is_loopback_only()
    try:
        ice.loopback_only()
        assert aioice.ice.get_host_addresses(True, True) == ["127.0.0.1"]
        assert aioice.ice.get_host_addresses(False, True) == []
        ice.loopback_only(False)
        assert "127.0.0.1" not in aioice.ice.get_host_addresses(True, False)
    finally:
        ice.loopback_only(previous)
    assert ice.is_loopback_url("http://127.0.0.1:8765")
    assert ice.is_loopback_url("http://localhost:1")
    assert not ice.is_loopback_url("https://gateway.example:443")


# ----- signalling --------------------------------------------------------------------
async def _with_app(app: web.Application, body: Any) -> Any:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        return await body(f"http://127.0.0.1:{port}")
    finally:
        await runner.cleanup()


def test_signalling_protocol_round_trip_and_errors() -> None:
    import aiohttp

    seen: list[DialRequest] = []

    async def on_call(request: DialRequest) -> DialResponse:
        seen.append(request)
        if request.number == "bad":
            return DialResponse(request.call_id, "answered")  # no SDP: a broken gateway
        return DialResponse(request.call_id, "busy")

    async def on_hangup(call_id: str) -> None:
        seen.append(DialRequest(call_id, "hangup", ""))

    async def body(url: str) -> None:
        async with aiohttp.ClientSession() as session:
            busy = await post_offer(session, url, DialRequest("c1", "13800000000", "v=0"), 5)
            assert (busy.call_id, busy.outcome, busy.sdp) == ("c1", "busy", None)
            with pytest.raises(SignallingError):
                await post_offer(session, url, DialRequest("c2", "bad", "v=0"), 5)
            async with session.post(f"{url}/calls", json={"number": "1"}) as response:
                assert response.status == 400
            async with session.post(f"{url}/calls/c1%2Fx/hangup") as response:
                assert response.status == 200

    asyncio.run(_with_app(gateway_app(on_call, on_hangup), body))
    assert seen[0].caller == "12345" and seen[-1].call_id == "c1/x"


def test_unreachable_gateway_is_a_signalling_error() -> None:
    import aiohttp

    async def body() -> None:
        async with aiohttp.ClientSession() as session:
            with pytest.raises(SignallingError):
                await post_offer(session, "http://127.0.0.1:9", DialRequest("c", "1", "v=0"), 2)

    asyncio.run(body())


# ----- simulated citizens --------------------------------------------------------------
def test_citizen_specs() -> None:
    number, citizen = parse_citizen("13800138000=空号")
    assert (number, citizen.outcome) == ("13800138000", "空号")
    wav = str(AUDIO / "satisfied_1.wav")
    assert citizen_from(f"{wav},{wav}").answers == (Path(wav), Path(wav))
    with pytest.raises(ValueError):
        Citizen(outcome="ringing")


def test_gateway_fails_calls_as_told_and_unknown_numbers_are_empty() -> None:
    import aiohttp

    async def body() -> list[str]:
        gateway = SimulatedGateway({"1": Citizen(outcome="停机", ring_s=0.0),
                                    "2": Citizen(outcome="no_answer", ring_s=0.0)})
        url = await gateway.start()
        try:
            async with aiohttp.ClientSession() as session:
                return [(await post_offer(session, url, DialRequest(f"c{n}", n, "v=0"), 5)).outcome
                        for n in ("1", "2", "3")]
        finally:
            await gateway.stop()

    assert asyncio.run(body()) == ["停机", "no_answer", "空号"]


# ----- the dialler when the gateway is down ------------------------------------------------
def test_gateway_down_records_nothing_and_backs_off(tmp_path: Path, clock: SimClock) -> None:
    def no_asr(kind: str) -> Any:
        raise AssertionError("no call, no ASR")

    engine = build_engine(str(tmp_path / "r.db"), clock=clock)
    try:
        s, agent, unit = engine.service, Actor("agent", "a"), Actor("department", "区城管局")
        ticket = s.intake(channel="电话", category="投诉", urgency="一般", region="甬江区",
                          content="噪音", caller_name="张三", caller_phone="13800138000",
                          actor=agent)
        s.dispatch(ticket, dept="区城管局", assist=[], actor=agent)
        s.sign(ticket, dept="区城管局", actor=unit)
        s.resolve(ticket, dept="区城管局", reply="已处理", actor=unit)
        clock.now = datetime(2025, 10, 1, 10, 0, tzinfo=SHANGHAI)

        async def body() -> Any:
            robot = CallbackRobot("http://127.0.0.1:9", AsrPool(no_asr))
            try:
                direct = await robot.call(CallTask("x-try1", "13800138000", ticket))
                return direct, await dial_due_async(engine, robot)
            finally:
                await robot.close()
                robot.asr.close()

        direct, (outcome,) = asyncio.run(body())
        assert direct.outcome == "error" and "unreachable" in (direct.error or "")
        assert outcome.outcome == "error" and outcome.actions == []
        assert s.show(ticket)["call_attempts"] == [] and s.show(ticket)["state"] == "已办结"
        assert prepare_due(engine) == []  # backing off, not hammering the gateway
    finally:
        engine.close()


def test_numbers_one_digit_away() -> None:
    from adapters.telephony.robot import near_numbers, spoken_digits

    near = near_numbers("23456")
    assert "123456" in near and "2345" in near and "23457" in near and "23456" not in near
    assert len(near) == len(set(near))
    assert all(len(n) >= 4 for n in near_numbers("1234"))
    assert spoken_digits("102") == "一零二"


def test_citizen_hanging_up_ends_the_call_without_a_result() -> None:
    def no_asr(kind: str) -> Any:
        raise AssertionError("nobody answered: no ASR")

    async def body() -> Any:
        gateway = SimulatedGateway({"1": Citizen(answers=[], hang_up_after_s=1.5)})
        url = await gateway.start()
        robot = CallbackRobot(url, AsrPool(no_asr, workers=1))
        try:
            started = time.monotonic()
            result = await robot.call(CallTask("h-try1", "1", "t"))
            return result, time.monotonic() - started, gateway.calls_to("1")
        finally:
            await robot.close()
            robot.asr.close()
            await gateway.stop()

    result, seconds, (record,) = asyncio.run(body())
    assert result.outcome == "answered" and result.hung_up_by == "citizen"
    assert result.intent is None and result.result is None and result.error is None
    assert seconds < 5 and record.hung_up_by == "citizen"
