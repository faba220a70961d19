"""Generate the robot's committed prompt clips in adapters/telephony/prompts/ (needs espeak-ng).

Speech comes from espeak-ng's Mandarin voice ``cmn-latn-pinyin`` (input: pinyin with tone
digits). Each clip is trimmed of leading/trailing silence, normalised to the same level and
stored as 16 kHz mono Ogg/Opus at 24 kbit/s (~3 kB per second of speech: the whole set is a
few hundred kB, where 16-bit WAV would be over a megabyte). The robot decodes them once at
start with PyAV (already a dependency through aiortc) and builds sentences by concatenating
clips, as IVR systems do: fixed phrases plus digit, numeral, date, category and state clips.

Tests and fresh machines never call this (espeak-ng is not installed there): run it by hand
after changing a clip and commit the output:

    apt-get install espeak-ng
    python -m tools.make_prompts            # all clips
    python -m tools.make_prompts --check    # verify that every clip in the table exists
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import wave
from io import BytesIO
from pathlib import Path

import av
import numpy as np

SAMPLE_RATE = 16000
VOICE = "cmn-latn-pinyin"
SPEED = 230  # words (syllables) per minute: brisk, like a recorded IVR voice
PITCH = 45
BITRATE = 24000
PEAK = 0.5
SILENCE_THRESHOLD = 0.01
OUT_DIR = Path(__file__).resolve().parents[1] / "adapters" / "telephony" / "prompts"

# name -> (text, pinyin). Names are file names; texts are what the robot says.
CLIPS: dict[str, tuple[str, str]] = {
    # callback (回访)
    "greet_callback": ("您好，这里是12345热线回访。",
                       "nin2 hao3, zhe4 li3 shi4 yao1 er4 san1 si4 wu3 re4 xian4 hui2 fang3."),
    "your_request": ("您反映的", "nin2 fan3 ying4 de5"),
    "issue_resolved": ("问题已办结，", "wen4 ti2 yi3 ban4 jie2,"),
    "q_satisfied": ("请问您对处理结果满意吗？",
                    "qing3 wen4 nin2 dui4 chu3 li3 jie2 guo3 man3 yi4 ma5?"),
    "q_options": ("请回答满意、基本满意或不满意。",
                  "qing3 hui2 da2 man3 yi4, ji1 ben3 man3 yi4, huo4 bu4 man3 yi4."),
    "sorry_unclear": ("抱歉，没有听清。", "bao4 qian4, mei2 you3 ting1 qing1."),
    "thanks_bye": ("感谢您的评价，再见。", "gan3 xie4 nin2 de5 ping2 jia4, zai4 jian4."),
    "handoff": ("好的，正在为您转接人工服务，请稍候。",
                "hao3 de5, zheng4 zai4 wei4 nin2 zhuan3 jie1 ren2 gong1 fu2 wu4, qing3 shao1 hou4."),
    "unrecognized_bye": ("抱歉，未能识别您的回答，我们稍后再与您联系，再见。",
                         "bao4 qian4, wei4 neng2 shi2 bie2 nin2 de5 hui2 da2, "
                         "wo3 men5 shao1 hou4 zai4 yu3 nin2 lian2 xi4, zai4 jian4."),
    # categories (诉求类别)
    "cat_consult": ("咨询", "zi1 xun2"),
    "cat_help": ("求助", "qiu2 zhu4"),
    "cat_complaint": ("投诉", "tou2 su4"),
    "cat_report": ("举报", "ju3 bao4"),
    "cat_suggestion": ("建议", "jian4 yi4"),
    "cat_praise": ("表扬", "biao3 yang2"),
    # progress query (进度查询)
    "query_ticket": ("您查询的工单", "nin2 cha2 xun2 de5 gong1 dan1"),
    "current_state": ("当前状态：", "dang1 qian2 zhuang4 tai4:"),
    "expected": ("预计", "yu4 ji4"),
    "before_done": ("前办结。", "qian2 ban4 jie2."),
    "not_found": ("未查询到该工单，请核对工单号。",
                  "wei4 cha2 xun2 dao4 gai1 gong1 dan1, qing3 he2 dui4 gong1 dan1 hao4."),
    "state_intake": ("已受理", "yi3 shou4 li3"),
    "state_dispatched": ("已派单", "yi3 pai4 dan1"),
    "state_returned": ("已退回", "yi3 tui4 hui2"),
    "state_handling": ("办理中", "ban4 li3 zhong1"),
    "state_resolved": ("已办结", "yi3 ban4 jie2"),
    "state_archived": ("已归档", "yi3 gui1 dang4"),
    "state_withdrawn": ("已撤销", "yi3 che4 xiao1"),
    "state_merged": ("已合并", "yi3 he2 bing4"),
    "state_transferred": ("已转办", "yi3 zhuan3 ban4"),
    # reminders (OutboundCallRequested)
    "greet": ("您好，这里是12345热线。", "nin2 hao3, zhe4 li3 shi4 yao1 er4 san1 si4 wu3 re4 xian4."),
    "ticket": ("工单", "gong1 dan1"),
    "will_be_due": ("将于", "jiang1 yu2"),
    "due_report_plan": ("到期，请于今日18点前反馈处理计划。",
                        "dao4 qi1, qing3 yu2 jin1 ri4 shi2 ba1 dian3 qian2 fan3 kui4 "
                        "chu3 li3 ji4 hua4."),
    "due_supervise": ("到期，承办单位至今未反馈处理计划，请督促办理。",
                      "dao4 qi1, cheng2 ban4 dan1 wei4 zhi4 jin1 wei4 fan3 kui4 chu3 li3 ji4 hua4, "
                      "qing3 du1 cu4 ban4 li3."),
    "issue": ("问题", "wen4 ti2"),
    "in_progress_eta": ("正在办理中，预计于", "zheng4 zai4 ban4 li3 zhong1, yu4 ji4 yu2"),
    "generic_notice": ("有新的通知，请及时登录工单系统查看。",
                       "you3 xin1 de5 tong1 zhi1, qing3 ji2 shi2 deng1 lu4 gong1 dan1 xi4 tong3 "
                       "cha2 kan4."),
    "ack_request": ("收到请回复收到。", "shou1 dao4 qing3 hui2 fu4 shou1 dao4."),
    "bye": ("感谢接听，再见。", "gan3 xie4 jie1 ting1, zai4 jian4."),
    # numbers: digits read one by one (幺 for 1, as on the phone), numerals for dates
    "d1": ("幺", "yao1"),
    "n0": ("零", "ling2"),
    "n1": ("一", "yi1"),
    "n2": ("二", "er4"),
    "n3": ("三", "san1"),
    "n4": ("四", "si4"),
    "n5": ("五", "wu3"),
    "n6": ("六", "liu4"),
    "n7": ("七", "qi1"),
    "n8": ("八", "ba1"),
    "n9": ("九", "jiu3"),
    "n10": ("十", "shi2"),
    "month": ("月", "yue4"),
    "day": ("日", "ri4"),
}


def _require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        sys.exit(f"make_prompts: {tool} not found (apt-get install espeak-ng)")
    return path


def synthesize(pinyin: str) -> np.ndarray:
    """espeak-ng WAV (22.05 kHz) -> float32 16 kHz mono, trimmed and normalised."""
    cmd = [_require("espeak-ng"), "-v", VOICE, "-s", str(SPEED), "-p", str(PITCH), "--stdout",
           pinyin]
    data = subprocess.run(cmd, check=True, capture_output=True).stdout
    with wave.open(BytesIO(data), "rb") as wf:
        rate = wf.getframerate()
        raw = wf.readframes(wf.getnframes())
    audio = np.frombuffer(raw, "<i2").astype(np.float32) / 32768.0
    audio = _resample(audio, rate, SAMPLE_RATE)
    loud = np.flatnonzero(np.abs(audio) > SILENCE_THRESHOLD)
    if loud.size:
        margin = int(0.02 * SAMPLE_RATE)
        audio = audio[max(0, loud[0] - margin): loud[-1] + margin]
    return (audio / max(float(np.abs(audio).max()), 1e-6) * PEAK).astype(np.float32)


def _resample(audio: np.ndarray, src: int, dst: int) -> np.ndarray:
    resampler = av.AudioResampler(format="s16", layout="mono", rate=dst)
    frame = av.AudioFrame.from_ndarray(
        (audio * 32767).astype(np.int16).reshape(1, -1), format="s16", layout="mono")
    frame.sample_rate = src
    chunks = [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
    chunks += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    return np.concatenate(chunks).astype(np.float32) / 32768.0


def encode_opus(audio: np.ndarray, path: Path) -> None:
    """16 kHz mono float32 -> Ogg/Opus file."""
    pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16)
    with av.open(str(path), "w", format="ogg") as container:
        stream = container.add_stream("libopus", rate=SAMPLE_RATE)
        stream.bit_rate = BITRATE
        stream.layout = "mono"
        frame_size = SAMPLE_RATE // 50  # 20 ms
        padded = np.concatenate([pcm, np.zeros(-pcm.size % frame_size, np.int16)])
        for i, start in enumerate(range(0, padded.size, frame_size)):
            frame = av.AudioFrame.from_ndarray(padded[start:start + frame_size].reshape(1, -1),
                                               format="s16", layout="mono")
            frame.sample_rate = SAMPLE_RATE
            frame.pts = i * frame_size
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    parser.add_argument("--check", action="store_true", help="only check the committed set")
    args = parser.parse_args(argv)
    out: Path = args.out
    manifest_path = out / "manifest.json"
    if args.check:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        missing = sorted(set(CLIPS) - set(manifest["clips"]))
        missing += [n for n in manifest["clips"] if not (out / f"{n}.ogg").is_file()]
        print("missing: " + ", ".join(missing) if missing else f"{len(CLIPS)} clips OK")
        return 1 if missing else 0
    out.mkdir(parents=True, exist_ok=True)
    clips: dict[str, dict[str, object]] = {}
    for name, (text, pinyin) in CLIPS.items():
        audio = synthesize(pinyin)
        encode_opus(audio, out / f"{name}.ogg")
        clips[name] = {"text": text, "pinyin": pinyin, "seconds": round(audio.size / SAMPLE_RATE, 3)}
    manifest = {"sample_rate": SAMPLE_RATE, "format": "ogg/opus", "bitrate": BITRATE,
                "generator": "python -m tools.make_prompts",
                "espeak": {"voice": VOICE, "speed": SPEED, "pitch": PITCH}, "clips": clips}
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n",
                             encoding="utf-8")
    total = sum(p.stat().st_size for p in out.glob("*.ogg"))
    seconds = sum(float(str(c["seconds"])) for c in clips.values())
    print(f"{len(clips)} clips, {seconds:.1f} s of speech, {total / 1024:.0f} kB in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
