"""Telephony for the callback robot: WebRTC calls (aiortc) through a media gateway.

* ``ice``        — ICE configuration (no STUN server; loopback-only candidates for tests);
* ``media``      — the audio tracks: a paced prompt player and a receiver with VAD endpointing;
* ``signalling`` — the HTTP offer/answer protocol between the robot and the media gateway;
* ``prompts``    — committed Mandarin prompt clips and their concatenation (IVR style);
* ``asr``        — a bounded worker pool in front of the ASR helper's WhisperRecognizer;
* ``robot``      — the conversation: question, listen, classify, re-ask, thank, hang up;
* ``dialler``    — ``dial_due``: takes due jobs from the callback queue, calls, reports results.
"""
