"""Speech recognition for the callback robot: whisper.cpp transcription and answer intents."""

from adapters.asr.intent import (
    ANSWER_INTENTS,
    IntentResult,
    classify_answer,
    classify_transcript,
    is_dangerous_error,
    parse_progress_query,
)
from adapters.asr.whisper import (
    AudioError,
    ModelNotFoundError,
    ScoringUnavailableError,
    Transcription,
    WhisperRecognizer,
    load_audio,
)

__all__ = [
    "ANSWER_INTENTS",
    "AudioError",
    "IntentResult",
    "ModelNotFoundError",
    "ScoringUnavailableError",
    "Transcription",
    "WhisperRecognizer",
    "classify_answer",
    "classify_transcript",
    "is_dangerous_error",
    "load_audio",
    "parse_progress_query",
]
