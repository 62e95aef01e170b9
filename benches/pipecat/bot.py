"""A Pipecat bot equivalent to voxgate's `fixed` provider mode, for side-by-side benchmarks.

Per call (one Twilio Media Streams WebSocket on `/ws`), one Pipecat pipeline:

    transport.input()     Twilio `media` -> 8 kHz PCM (TwilioFrameSerializer)
    FixedEars             SegmentedSTTService: on VAD stop, "what are your opening hours"
    user aggregator       Silero VAD + turn strategies (the turn ends on VAD stop), barge-in
    ScriptedBrain         voxgate's built-in scripted rules -> one LLM text frame
    ToneMouth             TTSService: every sentence is a 1.5 s 440 Hz tone at 24 kHz
    transport.output()    resampled to 8 kHz, 20 ms mu-law `media` events; `clear` on interruption
    assistant aggregator

`server_added` is measured as voxgate measures it: from the end-of-turn decision (the moment
the VAD produces VADUserStoppedSpeakingFrame, after 300 ms of silence) to the moment the first
reply audio of that turn, serialized as a `media` message, is handed to the WebSocket. Events
go, one JSON object per line, to the file named by --events-log.

Run: python bot.py --host 127.0.0.1 --port 8765 --events-log /tmp/pipecat-events.jsonl
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import sys
import time

from loguru import logger

# Configure loguru before Pipecat is imported: Pipecat logs a banner at import time and logs
# at DEBUG level on every turn; the benchmark must not pay for log output.
logger.remove()
_LOG_LEVEL = "WARNING"


def _log_filter(record) -> bool:
    # Every call warns once that stop_secs (0.3, our setting) differs from Pipecat's 0.2;
    # that is deliberate here, so the line is dropped.
    return "differs from the recommended default" not in record["message"]


logger.add(sys.stderr, level=_LOG_LEVEL, filter=_log_filter)

import uvicorn  # noqa: E402
from fastapi import FastAPI, WebSocket  # noqa: E402
from fastapi.responses import JSONResponse  # noqa: E402

from pipecat.audio.vad.silero import SileroVADAnalyzer  # noqa: E402
from pipecat.audio.vad.vad_analyzer import VADParams  # noqa: E402
from pipecat.frames.frames import (  # noqa: E402
    EndWorkerFrame,
    Frame,
    InterruptionFrame,
    LLMContextFrame,
    LLMFullResponseEndFrame,
    LLMFullResponseStartFrame,
    LLMTextFrame,
    OutputAudioRawFrame,
    TranscriptionFrame,
    TTSAudioRawFrame,
    TTSSpeakFrame,
    VADUserStoppedSpeakingFrame,
)
from pipecat.pipeline.pipeline import Pipeline  # noqa: E402
from pipecat.pipeline.worker import PipelineParams, PipelineWorker  # noqa: E402
from pipecat.processors.aggregators.llm_context import LLMContext  # noqa: E402
from pipecat.processors.aggregators.llm_response_universal import (  # noqa: E402
    LLMContextAggregatorPair,
    LLMUserAggregatorParams,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor  # noqa: E402
from pipecat.serializers.twilio import TwilioFrameSerializer  # noqa: E402
from pipecat.services.settings import STTSettings, TTSSettings  # noqa: E402
from pipecat.services.stt_service import SegmentedSTTService  # noqa: E402
from pipecat.services.tts_service import TTSService  # noqa: E402
from pipecat.transports.websocket.fastapi import (  # noqa: E402
    FastAPIWebsocketParams,
    FastAPIWebsocketTransport,
)
from pipecat.turns.user_stop import SpeechTimeoutUserTurnStopStrategy  # noqa: E402
from pipecat.turns.user_turn_strategies import (  # noqa: E402
    UserTurnStrategies,
    default_user_turn_start_strategies,
)
from pipecat.utils.time import time_now_iso8601  # noqa: E402
from pipecat.workers.runner import WorkerRunner  # noqa: E402

# --- What voxgate's fixed mode does (pipeline/src/agent.rs, engines/fixed.rs, turn.rs) ----

GREETING = "Hello, you have reached voxgate. How can I help you?"
FIXED_TEXT = "what are your opening hours"

# voxgate's TurnConfig defaults: Silero threshold 0.5, 100 ms of speech starts a turn, 300 ms
# of silence ends it. voxgate has no loudness gate, so Pipecat's is switched off.
VAD_PARAMS = VADParams(confidence=0.5, start_secs=0.1, stop_secs=0.3, min_volume=0.0)

# voxgate's `tone` mouth: 1500 ms, 440 Hz, 24 kHz, peak 8192 (-12 dBFS), one piece per sentence.
TONE_RATE = 24_000
TONE_HZ = 440.0
TONE_PEAK = 8_192.0
TONE_MS = 1_500


def _tone() -> bytes:
    import numpy as np

    n = TONE_RATE * TONE_MS // 1000
    step = 2.0 * math.pi * TONE_HZ / TONE_RATE
    samples = np.sin(np.arange(n, dtype=np.float64) * step) * TONE_PEAK
    return samples.astype("<i2").tobytes()  # truncation toward zero, as Rust's `as i16`


TONE = _tone()

# voxgate's built-in scripted rules (pipeline/src/engines/scripted_default.toml), tried in order.
FALLBACK = "Sorry, I did not catch that. Could you say it again?"
RULES: list[tuple[list[str], str, bool]] = [
    (["goodbye", "bye", "that's all"], "Goodbye, and thank you for calling.", True),
    (
        ["hello", "hi", "good morning", "good afternoon"],
        "Hello! You are talking to voxgate, a voice agent running on this machine. "
        "How can I help?",
        False,
    ),
    (["thank you", "thanks"], "You are welcome.", False),
    (["opening hours", "when are you open"], "We are open from nine to five, Monday to Friday.", False),
]


def _words(text: str) -> list[str]:
    """Lower-case words; apostrophes dropped, any other non-alphanumeric char separates."""
    text = text.replace("'", "").replace("\u2019", "").lower()
    return [w for w in re.split(r"[^0-9a-z\u00c0-\uffff]+", text) if w]


_RULES = [([_words(p) for p in phrases], reply, hangup) for phrases, reply, hangup in RULES]


def answer(message: str) -> tuple[str, bool]:
    """The scripted brain's reply to `message` and whether the call ends after it."""
    words = _words(message)
    for phrases, reply, hangup in _RULES:
        for p in phrases:
            if any(words[i : i + len(p)] == p for i in range(len(words) - len(p) + 1)):
                return reply, hangup
    return FALLBACK, False


# --- Events log and per-call measurement ------------------------------------------------------


class EventsLog:
    """Appends one JSON object per line to a file, flushed at once (or nowhere)."""

    def __init__(self, path: str | None):
        self._file = open(path, "a", encoding="utf-8") if path else None

    def write(self, event: dict) -> None:
        if self._file:
            self._file.write(json.dumps(event, separators=(",", ":")) + "\n")
            self._file.flush()


EVENTS = EventsLog(None)


class CallMeter:
    """Per-call `server_added` measurement and barge-in detection.

    `vad_stopped` is called with the VADUserStoppedSpeakingFrame's own timestamp (wall clock,
    set when the VAD decided the turn is over). `audio_out` is called by the serializer when
    it has turned an output audio frame into a `media` message, just before the transport
    sends it on the WebSocket; `interrupted` when it turns an interruption into `clear`.
    """

    def __init__(self, call_id: str):
        self.call_id = call_id
        self._turn_decided: float | None = None  # time.time() of the pending turn's VAD stop
        self._playout_end = 0.0  # monotonic: when the caller has heard everything sent so far

    def vad_stopped(self, timestamp: float) -> None:
        self._turn_decided = timestamp

    def audio_out(self, frame: OutputAudioRawFrame) -> None:
        if self._turn_decided is not None:
            added_us = int((time.time() - self._turn_decided) * 1_000_000)
            self._turn_decided = None
            EVENTS.write(
                {"type": "turn_completed", "call_id": self.call_id, "server_added_us": added_us}
            )
        secs = len(frame.audio) / (2 * frame.sample_rate * max(frame.num_channels, 1))
        now = time.monotonic()
        self._playout_end = max(self._playout_end, now) + secs

    def interrupted(self) -> None:
        # Pipecat interrupts on every user turn start; it is a barge-in only if the caller
        # was still hearing the bot (estimated from the audio sent) or a reply was pending.
        now = time.monotonic()
        if self._playout_end > now or self._turn_decided is not None:
            EVENTS.write({"type": "barge_in", "call_id": self.call_id})
        self._playout_end = now
        self._turn_decided = None


# --- The bot's processors -----------------------------------------------------------------------


class MeteredTwilioSerializer(TwilioFrameSerializer):
    """Pipecat's Twilio serializer, telling the meter what goes out on the WebSocket."""

    def __init__(self, meter: CallMeter, **kwargs):
        super().__init__(**kwargs)
        self._meter = meter

    async def serialize(self, frame: Frame) -> str | bytes | None:
        message = await super().serialize(frame)
        if isinstance(frame, OutputAudioRawFrame):
            # Pipecat's stream resamplers may hold audio back, so only a frame that yields a
            # `media` message counts as reply audio reaching the caller.
            if message:
                self._meter.audio_out(frame)
        elif isinstance(frame, InterruptionFrame):
            self._meter.interrupted()
        return message


class FixedEars(SegmentedSTTService):
    """Ears that hear the same text in every utterance, at once (voxgate's `fixed` ears).

    A segmented STT service: it collects the utterance's audio while the user speaks and
    transcribes it when the VAD reports the end of speech, like voxgate's ears.
    """

    def __init__(self, text: str, meter: CallMeter, **kwargs):
        super().__init__(
            trailing_silence_secs=0.0,
            ttfs_p99_latency=0.0,
            settings=STTSettings(model=None, language=None),
            **kwargs,
        )
        self._text = text.strip()
        self._meter = meter

    @property
    def wants_wav_segments(self) -> bool:
        return False

    async def process_frame(self, frame: Frame, direction: FrameDirection):
        if isinstance(frame, VADUserStoppedSpeakingFrame):
            self._meter.vad_stopped(frame.timestamp)
        await super().process_frame(frame, direction)

    async def run_stt(self, audio: bytes):
        yield TranscriptionFrame(
            text=self._text, user_id=self._user_id, timestamp=time_now_iso8601(), finalized=True
        )


class ScriptedBrain(FrameProcessor):
    """Answers the latest user message with voxgate's built-in scripted rules.

    Takes the place of the LLM service: consumes the LLMContextFrame the user aggregator
    pushes at the end of the user's turn and streams the reply as one LLM text frame.
    """

    async def process_frame(self, frame: Frame, direction: FrameDirection):
        await super().process_frame(frame, direction)
        if not isinstance(frame, LLMContextFrame):
            await self.push_frame(frame, direction)
            return
        if frame.speculation:
            return
        latest = ""
        for message in reversed(frame.context.messages):
            if isinstance(message, dict) and message.get("role") == "user":
                content = message.get("content")
                latest = content if isinstance(content, str) else ""
                break
        reply, hangup = answer(latest)
        await self.push_frame(LLMFullResponseStartFrame())
        await self.push_frame(LLMTextFrame(reply))
        await self.push_frame(LLMFullResponseEndFrame())
        if hangup:
            # Ends the call (closes the WebSocket) once the reply has played out.
            await self.push_frame(EndWorkerFrame())


class ToneMouth(TTSService):
    """A mouth that says every sentence as the same precomputed tone, in one piece, at once."""

    def __init__(self, **kwargs):
        super().__init__(
            sample_rate=TONE_RATE,
            push_start_frame=True,
            push_stop_frames=True,
            settings=TTSSettings(model=None, voice=None, language=None),
            **kwargs,
        )

    async def run_tts(self, text: str, context_id: str):
        if not text.strip():
            return
        yield TTSAudioRawFrame(TONE, TONE_RATE, 1, context_id=context_id)


# --- One call ---------------------------------------------------------------------------------


async def read_start(websocket: WebSocket, timeout: float = 10.0) -> dict:
    """Reads Twilio messages up to and including `start` (`connected` is optional)."""
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no `start` message")
        raw = await asyncio.wait_for(websocket.receive_text(), timeout=remaining)
        try:
            message = json.loads(raw)
        except json.JSONDecodeError:
            continue
        if message.get("event") == "start":
            return message


async def run_call(websocket: WebSocket, stream_sid: str, call_sid: str, opts) -> None:
    meter = CallMeter(call_sid)
    serializer = MeteredTwilioSerializer(
        meter,
        stream_sid=stream_sid,
        call_sid=call_sid,
        params=TwilioFrameSerializer.InputParams(auto_hang_up=False),
    )
    transport = FastAPIWebsocketTransport(
        websocket=websocket,
        params=FastAPIWebsocketParams(
            audio_in_enabled=True,
            audio_out_enabled=True,
            add_wav_header=False,
            serializer=serializer,
            audio_out_10ms_chunks=max(1, opts.out_chunk_ms // 10),
            audio_out_end_silence_secs=0,
        ),
    )

    context = LLMContext()
    aggregators = LLMContextAggregatorPair(
        context,
        user_params=LLMUserAggregatorParams(
            vad_analyzer=SileroVADAnalyzer(params=VAD_PARAMS),
            user_turn_strategies=UserTurnStrategies(
                start=default_user_turn_start_strategies(),
                # Ends the turn as soon as the VAD reports the end of speech (after its
                # stop_secs) and the transcript is in: no extra speech timeout, no Smart Turn.
                stop=[SpeechTimeoutUserTurnStopStrategy(user_speech_timeout=0.0)],
            ),
        ),
    )

    pipeline = Pipeline(
        [
            transport.input(),
            FixedEars(FIXED_TEXT, meter),
            aggregators.user(),
            ScriptedBrain(),
            ToneMouth(),
            transport.output(),
            aggregators.assistant(),
        ]
    )
    worker = PipelineWorker(
        pipeline,
        # Pipecat's Twilio setup: the pipeline runs at the call's 8 kHz, so the serializer only
        # converts mu-law; the 24 kHz tone is resampled to 8 kHz by the output transport.
        params=PipelineParams(audio_in_sample_rate=opts.in_rate, audio_out_sample_rate=8_000),
        enable_rtvi=opts.rtvi,
        idle_timeout_secs=None,
    )

    @transport.event_handler("on_client_connected")
    async def on_client_connected(_transport, _ws):
        await worker.queue_frames([TTSSpeakFrame(GREETING)])

    @transport.event_handler("on_client_disconnected")
    async def on_client_disconnected(_transport, _ws):
        await worker.cancel()

    runner = WorkerRunner(handle_sigint=False)
    await runner.add_workers(worker)
    await runner.run()


def create_app(opts) -> FastAPI:
    app = FastAPI()

    @app.get("/healthz")
    async def healthz():
        return JSONResponse({"status": "ok"})

    @app.websocket("/ws")
    async def ws(websocket: WebSocket):
        await websocket.accept()
        try:
            start = await read_start(websocket)
        except Exception:  # no `start`: timeout, disconnect, binary or malformed messages
            try:
                await websocket.close()
            except Exception:
                pass
            return
        body = start.get("start") or {}
        stream_sid = body.get("streamSid") or start.get("streamSid") or ""
        call_sid = body.get("callSid") or stream_sid
        EVENTS.write({"type": "started", "call_id": call_sid})
        try:
            await run_call(websocket, stream_sid, call_sid, opts)
        finally:
            EVENTS.write({"type": "ended", "call_id": call_sid})

    return app


def _options(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--events-log", default=None, help="append JSON-lines events here")
    parser.add_argument(
        "--out-chunk-ms",
        type=int,
        default=20,
        help="outbound media chunk length (Twilio/voxgate frames are 20 ms; Pipecat's default is 40)",
    )
    parser.add_argument(
        "--in-rate",
        type=int,
        choices=(8000, 16000),
        default=8000,
        help="pipeline input rate, which the VAD runs at (Pipecat's Twilio default 8000; "
        "16000 matches voxgate's VAD but Pipecat's resampler then delivers input in ~100 ms blocks)",
    )
    parser.add_argument(
        "--rtvi", action="store_true", help="keep Pipecat's RTVI processor (off: no RTVI client)"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="uvicorn worker processes, each with its own event loop (one per core scales a "
        "Python server past its GIL)",
    )
    parser.add_argument(
        "--loop",
        choices=("uvloop", "asyncio"),
        default="uvloop",
        help="the event loop: uvloop (uvicorn's standard install) or the stock asyncio loop",
    )
    return parser.parse_args(argv)


_OPTIONS_ENV = "VOXGATE_PIPECAT_BOT_ARGS"


def app_factory() -> FastAPI:
    """The app of one uvicorn worker, configured from the arguments `main` was given."""
    global EVENTS
    opts = _options(json.loads(os.environ.get(_OPTIONS_ENV, "[]")))
    EVENTS = EventsLog(opts.events_log)
    return create_app(opts)


def main() -> None:
    opts = _options()
    # Every worker process builds its app from the same arguments (uvicorn starts workers
    # from an import string, so they travel in the environment).
    os.environ[_OPTIONS_ENV] = json.dumps(sys.argv[1:])
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    uvicorn.run(
        "bot:app_factory",
        factory=True,
        host=opts.host,
        port=opts.port,
        workers=opts.workers,
        loop=opts.loop,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
