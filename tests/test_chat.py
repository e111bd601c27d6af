"""The chat: offline responder over words x faces, the endpoint client against a real local server,
the controller off the render thread, the text line, and `python -m avatar chat`."""

from __future__ import annotations

import dataclasses
import json
import random
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import ASTRONAUT, FIXTURES

from avatar.chat import (
    BANNED_WORDS,
    K_BACKSPACE,
    K_ESCAPE,
    K_KP_ENTER,
    K_RETURN,
    ChatController,
    ChatSettings,
    FaceContext,
    FaceCue,
    Intent,
    ReplySource,
    Responder,
    Speaker,
    TextInput,
    Tone,
    build_chat_parser,
    command_chat,
    compose,
    endpoint_url,
    plain_text,
    read_text,
    reflect,
    respond,
    sentiment,
)
from avatar.chat.overlay import ChatOverlay
from avatar.errors import SourceError

FINE = "I'm fine, really."
SMILING = FaceContext(present=True, smile=0.9, wince=0.0)
WINCING = FaceContext(present=True, smile=0.0, wince=0.6, frown=0.3)
NEUTRAL = FaceContext(present=True, smile=0.05, wince=0.0)
NO_FACE = FaceContext.absent()
FACES = {"smile": SMILING, "wince": WINCING, "neutral": NEUTRAL, "no face": NO_FACE}
WORDS = {
    "greeting": "Hello!",
    "question": "What do you think about art?",
    "fine": FINE,
    "sad": "I feel so sad today.",
    "farewell": "Goodbye, see you later.",
}
MAY_NOT_BE_FINE = ("tense", "bothering", "all right", "okay", "on your mind", "how are you really")


def _stranger(context: FaceContext) -> FaceContext:
    return dataclasses.replace(context, familiarity=0.1)


def _friend(context: FaceContext) -> FaceContext:
    return dataclasses.replace(context, familiarity=0.9)


# --- The face context ----------------------------------------------------------------------------


def test_face_context_from_series_takes_means_and_slopes_over_the_last_seconds():
    times = [i / 10 for i in range(60)]  # 6 s at 10 Hz
    smiles = [0.0 if t < 3 else 0.2 * (t - 3) for t in times]  # grows by 0.2/s in the last 3 s
    winces = [0.5 if t < 3 else 0.0 for t in times]
    context = FaceContext.from_series(times, smiles, winces, familiarity=0.5, window_s=2.9)
    assert context.present
    assert context.smile_trend_per_s == pytest.approx(0.2, abs=1e-6)
    assert context.smile == pytest.approx(0.30, abs=1e-6)  # 3.1 ... 5.9 s: 0.02 ... 0.58
    assert context.wince == 0.0 and context.wince_trend_per_s == pytest.approx(0.0, abs=1e-9)
    assert context.familiarity == 0.5
    assert "smile is growing" in context.describe()


def test_face_context_is_absent_when_most_frames_have_no_face():
    times = [0.0, 0.1, 0.2, 0.3]
    context = FaceContext.from_series(times, [None, None, float("nan"), 0.8], [None, None, None, 0.0], familiarity=0.2)
    assert not context.present
    assert context.cue() is FaceCue.ABSENT
    assert "No face" in context.describe()
    assert not FaceContext.from_series([], [], [], familiarity=0.2).present


def test_face_context_describe_is_short_plain_text_with_tone():
    assert "smiling" in SMILING.describe() and "formal" in _stranger(SMILING).describe()
    assert "tense" in WINCING.describe() and "casual" in _friend(WINCING).describe()
    for context in (SMILING, WINCING, NEUTRAL, NO_FACE):
        text = context.describe()
        assert 5 <= len(text.split()) <= 40 and "\n" not in text


# --- The words -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, intent",
    [
        ("Hello!", Intent.GREETING),
        ("hey there", Intent.GREETING),
        ("What is your name?", Intent.QUESTION),
        ("How does this work?", Intent.QUESTION),
        (FINE, Intent.FEELING),
        ("I feel so sad today.", Intent.FEELING),
        ("Not bad, actually", Intent.FEELING),
        ("Goodbye!", Intent.FAREWELL),
        ("I have to go now, bye", Intent.FAREWELL),
        ("The train was on time", Intent.OTHER),
    ],
)
def test_intent_of_common_messages(text, intent):
    assert read_text(text).intent is intent


def test_sentiment_flips_under_negation():
    assert sentiment("I am happy") > 0
    assert sentiment("I am not happy") < 0
    assert sentiment("not bad at all") > 0
    assert sentiment("I'm sad") < 0
    assert sentiment("The train was on time") == 0


def test_reflection_swaps_first_and_second_person():
    assert reflect("I am tired of my job") == "you are tired of your job"
    assert reflect("I'm fine") == "you're fine"
    assert read_text("I feel lonely at home.").feeling == "you feel lonely at home"


# --- The offline responder -------------------------------------------------------------------------


@pytest.mark.parametrize("face", FACES)
@pytest.mark.parametrize("words", WORDS)
@pytest.mark.parametrize("familiarity", [0.1, 0.9])
def test_responder_grid_gives_short_kind_replies(words, face, familiarity):
    context = dataclasses.replace(FACES[face], familiarity=familiarity)
    for seed in range(8):
        reply = compose(WORDS[words], context, random.Random(seed))
        assert reply.text.strip()
        assert len(reply.text.split()) <= 25, reply.text
        assert not any(banned in reply.text.lower() for banned in BANNED_WORDS), reply.text
        assert reply.cue is FACES[face].cue()
        assert reply.tone is (Tone.CASUAL if familiarity >= 0.6 else Tone.FORMAL)


def test_fine_with_a_smile_and_fine_with_a_wince_get_different_replies():
    smiling = respond(FINE, SMILING, random.Random(0))
    wincing = respond(FINE, WINCING, random.Random(0))
    assert smiling and wincing and smiling != wincing
    assert "well" in smiling.lower()
    assert any(phrase in wincing.lower() for phrase in MAY_NOT_BE_FINE), wincing
    assert "fine" in wincing.lower()  # it takes up their words before questioning them


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("familiarity", [0.1, 0.5, 0.9])
def test_fine_with_a_wince_always_acknowledges_they_may_not_be_fine(seed, familiarity):
    reply = compose(FINE, dataclasses.replace(WINCING, familiarity=familiarity), random.Random(seed))
    assert reply.mismatch
    assert any(phrase in reply.text.lower() for phrase in MAY_NOT_BE_FINE), reply.text
    assert reply.text.rstrip().endswith("?")  # it asks; it does not tell them how they feel


def test_fine_with_a_smile_agrees():
    for seed in range(10):
        reply = compose(FINE, SMILING, random.Random(seed))
        assert not reply.mismatch
        assert "tense" not in reply.text.lower()


def test_sad_words_with_a_smile_are_a_gentle_mismatch():
    reply = compose("I feel so sad today.", SMILING, random.Random(1))
    assert reply.mismatch
    assert "smil" in reply.text.lower()


def test_a_growing_smile_is_noticed():
    growing = dataclasses.replace(NEUTRAL, smile=0.3, smile_trend_per_s=0.2)
    reply = compose("The train was on time", growing, random.Random(0))
    assert reply.trend_noted and "smile growing" in reply.text


def test_stranger_gets_formal_tone_and_friend_casual():
    sad = WORDS["sad"]
    for seed in range(10):
        formal = compose(sad, _stranger(NEUTRAL), random.Random(seed)).text
        casual = compose(sad, _friend(NEUTRAL), random.Random(seed)).text
        assert "Thank you for sharing that" in formal
        assert "Thank you for sharing that" not in casual
    greetings_formal = {respond("Hello", _stranger(NEUTRAL), random.Random(s)) for s in range(10)}
    greetings_casual = {respond("Hello", _friend(NEUTRAL), random.Random(s)) for s in range(10)}
    assert not greetings_formal & greetings_casual
    assert any("Hey" in g for g in greetings_casual) and not any("Hey" in g for g in greetings_formal)


def test_same_seed_same_reply_and_replies_vary_across_seeds():
    assert respond(FINE, WINCING, random.Random(42)) == respond(FINE, WINCING, random.Random(42))
    assert len({respond(FINE, WINCING, random.Random(seed)) for seed in range(20)}) > 1


@pytest.mark.parametrize(
    "text",
    ["I think I'm depressed and sick", "Do I have a disorder?", "I am so anxious, is it an illness?", "my therapy is hard"],
)
def test_replies_never_diagnose_even_when_asked(text):
    for face in FACES.values():
        for seed in range(5):
            reply = respond(text, face, random.Random(seed)).lower()
            assert not any(banned in reply for banned in BANNED_WORDS), reply


def test_offline_responder_opens_no_socket(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("the offline responder opened a socket")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    assert respond(FINE, WINCING, random.Random(0))
    reply = Responder(ChatSettings()).reply(FINE, WINCING)
    assert reply.source is ReplySource.OFFLINE and reply.fallback_reason is None


# --- The endpoint client, against a real local server --------------------------------------------


class _FakeLLM(BaseHTTPRequestHandler):
    """Speaks the OpenAI chat format; `behaviour` on the server picks what it does."""

    def log_message(self, *args):  # keep pytest's output clean
        pass

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        body = json.loads(self.rfile.read(length))
        self.server.requests.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
        behaviour = self.server.behaviour
        if behaviour == "trickle":
            return self._trickle(self._payload("Too late."))
        if behaviour.startswith("redirect"):  # "redirect 302" to server.location
            self.send_response(int(behaviour.split()[1]))
            self.send_header("Location", self.server.location)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if behaviour == "raw":  # server.raw as the body, with or without a Content-Length
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            if self.server.raw_length:
                self.send_header("Content-Length", str(len(self.server.raw)))
            self.end_headers()
            self.wfile.write(self.server.raw)
            return
        if behaviour == "slow":
            time.sleep(1.5)
        if behaviour == "500":
            self.send_response(500)
            self.end_headers()
            self.wfile.write(b"boom")
            return
        if behaviour == "malformed":
            payload = b'{"choices": [ {"message": '
        else:
            content, finish = {
                "ok": ("Glad to hear it, friend.", "stop"),
                "slow": ("Too late.", "stop"),
                "refusal": ("I can't help with that.", "stop"),
                "filtered": ("", "content_filter"),
                "empty": ("   ", "stop"),
            }[behaviour]
            payload = json.dumps(
                {
                    "id": "x",
                    "object": "chat.completion",
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish}],
                }
            ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    @staticmethod
    def _payload(content: str) -> bytes:
        message = {"role": "assistant", "content": content}
        return json.dumps({"choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}).encode()

    def _trickle(self, payload: bytes) -> None:
        """A whole, valid response, status line included, one byte every half second."""
        response = b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(payload), payload)
        try:
            for byte in response:
                if self.server.stopping.wait(0.5):
                    return
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
        except OSError:  # the client gave up and shut the connection: what the test wants
            self.server.trickle_cut.set()


@pytest.fixture
def llm_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeLLM)
    server.daemon_threads = True
    server.block_on_close = False
    server.behaviour = "ok"
    server.requests = []
    server.location = ""
    server.raw, server.raw_length = b"", True
    server.stopping, server.trickle_cut = threading.Event(), threading.Event()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield server
    server.stopping.set()
    server.shutdown()
    server.server_close()


class _Listener:
    """A TCP port on 127.0.0.1 that records every connection and its first bytes (HTTP or FTP alike)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.received: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(0.3)
                try:
                    self.received.append(conn.recv(65536))
                except OSError:  # an FTP client waits for a greeting it never gets
                    self.received.append(b"")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2.0)
        self.sock.close()


@pytest.fixture
def elsewhere():
    listener = _Listener()
    yield listener
    listener.close()


def _endpoint_settings(server, **overrides) -> ChatSettings:
    return ChatSettings(endpoint=server.url, model="test-model", timeout_s=overrides.pop("timeout_s", 3.0), **overrides)


def test_endpoint_url_appends_the_openai_path_unless_given():
    assert endpoint_url("http://127.0.0.1:8080") == "http://127.0.0.1:8080/v1/chat/completions"
    assert endpoint_url("http://127.0.0.1:8080/") == "http://127.0.0.1:8080/v1/chat/completions"
    assert endpoint_url("http://h:11434/v1") == "http://h:11434/v1/chat/completions"
    assert endpoint_url("http://h/api/chat/completions") == "http://h/api/chat/completions"
    with pytest.raises(ValueError):
        endpoint_url("localhost:8080")


def test_endpoint_reply_is_used_and_the_face_is_in_the_system_prompt(llm_server, monkeypatch):
    monkeypatch.setenv("AVATAR_CHAT_KEY", "sk-secret-123")
    responder = Responder(_endpoint_settings(llm_server))
    reply = responder.reply(FINE, WINCING)
    assert reply.source is ReplySource.ENDPOINT and reply.fallback_reason is None
    assert reply.text == "Glad to hear it, friend."
    (request,) = llm_server.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["body"]["model"] == "test-model"
    messages = request["body"]["messages"]
    assert messages[0]["role"] == "system" and WINCING.describe() in messages[0]["content"]
    assert messages[-1] == {"role": "user", "content": FINE}
    assert request["auth"] == "Bearer sk-secret-123"


@pytest.mark.parametrize(
    "behaviour, reason",
    [("500", "http 500"), ("malformed", "bad json"), ("refusal", "refusal"), ("filtered", "content_filter"), ("empty", "empty")],
)
def test_endpoint_failures_fall_back_to_the_offline_reply(llm_server, behaviour, reason):
    llm_server.behaviour = behaviour
    reply = Responder(_endpoint_settings(llm_server, seed=7)).reply(FINE, WINCING)
    assert reply.source is ReplySource.OFFLINE
    assert reason in reply.fallback_reason
    assert reply.text == respond(FINE, WINCING, random.Random(7))


def test_slow_endpoint_times_out_and_the_controller_logs_a_fallback(llm_server, monkeypatch):
    monkeypatch.setenv("AVATAR_CHAT_KEY", "sk-secret-123")
    llm_server.behaviour = "slow"
    controller = ChatController(_endpoint_settings(llm_server, timeout_s=0.3))
    start = time.perf_counter()
    assert controller.submit(FINE, WINCING)
    reply = controller.wait(timeout_s=5.0)
    assert time.perf_counter() - start < 1.4  # the slow server answers at 1.5 s
    assert reply is not None and reply.source is ReplySource.OFFLINE and reply.fallback_reason == "timeout"
    events = controller.pop_events()
    assert [e.type for e in events] == ["chat_user", "chat_fallback", "chat_reply"]
    assert events[1].reason == "timeout" and events[2].source == "offline"
    assert "sk-secret" not in json.dumps([e.record() for e in events])


def test_unreachable_endpoint_falls_back():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    reply = Responder(ChatSettings(endpoint=f"http://127.0.0.1:{port}", timeout_s=1.0)).reply("Hello", NEUTRAL)
    assert reply.source is ReplySource.OFFLINE and reply.fallback_reason.startswith(("unreachable", "connection"))


def test_a_trickling_endpoint_cannot_hold_the_chat_past_its_total_timeout(llm_server):
    llm_server.behaviour = "trickle"  # every byte arrives well within a per-read timeout
    start = time.perf_counter()
    reply = Responder(_endpoint_settings(llm_server, timeout_s=1.0, seed=3)).reply(FINE, WINCING)
    assert time.perf_counter() - start < 1.0 + 1.0
    assert reply.source is ReplySource.OFFLINE and reply.fallback_reason == "timeout"
    assert reply.text == respond(FINE, WINCING, random.Random(3))
    assert llm_server.trickle_cut.wait(3.0)  # the abandoned connection was shut, not left to trickle on


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
def test_a_redirect_to_another_host_is_not_followed_and_the_key_stays_home(llm_server, elsewhere, code):
    llm_server.behaviour = f"redirect {code}"
    llm_server.location = f"http://127.0.0.1:{elsewhere.port}/v1/chat/completions"
    responder = Responder(_endpoint_settings(llm_server, seed=2), environ={"AVATAR_CHAT_KEY": "sk-secret-123"})
    reply = responder.reply(FINE, WINCING)
    assert reply.source is ReplySource.OFFLINE and reply.fallback_reason == "redirect"
    assert reply.text == respond(FINE, WINCING, random.Random(2))
    assert llm_server.requests[0]["auth"] == "Bearer sk-secret-123"  # the endpoint itself got it ...
    time.sleep(0.2)
    assert elsewhere.received == []  # ... the redirect's target was never contacted
    assert not any(b"sk-secret" in data or b"Authorization" in data for data in elsewhere.received)


def test_a_redirect_to_ftp_opens_no_ftp_connection(llm_server, elsewhere):
    llm_server.behaviour = "redirect 302"
    llm_server.location = f"ftp://127.0.0.1:{elsewhere.port}/reply.json"
    reply = Responder(_endpoint_settings(llm_server)).reply("Hello", NEUTRAL)
    assert reply.source is ReplySource.OFFLINE and reply.fallback_reason == "redirect"
    time.sleep(0.2)
    assert elsewhere.received == []


@pytest.mark.parametrize(
    "raw, reason",
    [
        (b"[" * 30_000 + b"]" * 30_000, "bad json"),  # within the size cap: nested past the parser's depth
        (b"[" * 100_000 + b"]" * 100_000, "reply too large"),
        (b'{"choices": [{"message": {"content": "caf\xe9"}}]}', "bad json"),  # Latin-1, not UTF-8
        (b'{"choices": [{"message": {"content": "\xed\xa0\x80"}}]}', "bad json"),  # an encoded surrogate
        (b"[]", "bad json"),
        (b'"Hello"', "bad json"),
        (b'{"choices": "Hello"}', "bad json"),
        (b'{"choices": []}', "bad json"),
        (b'{"choices": [null]}', "bad json"),
        (b'{"choices": [{"message": {"content": ["Hello"]}}]}', "bad json"),
        (b'{"choices": [{"message": {"content": "Hi"}, "finish_reason": {"x": 1}}]}', "bad json"),
        (b'{"choices": [{"message": {"content": 1' + b"1" * 5000 + b'}}]}', "bad json"),  # too many digits
    ],
    ids=["nested", "nested-huge", "latin-1", "surrogate-bytes", "list", "string", "choices-string", "no-choices",
         "null-choice", "content-list", "finish-object", "huge-int"],
)
def test_hostile_or_odd_json_falls_back_instead_of_raising(llm_server, raw, reason):
    llm_server.behaviour, llm_server.raw = "raw", raw
    reply = Responder(_endpoint_settings(llm_server, seed=5)).reply(FINE, WINCING)
    assert reply.source is ReplySource.OFFLINE and reply.fallback_reason == reason
    assert reply.text == respond(FINE, WINCING, random.Random(5))


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "until-close"])
def test_a_huge_reply_is_capped_and_falls_back(llm_server, declared):
    content = "Hello there. " * 20_000  # 260 KB of valid JSON
    llm_server.behaviour, llm_server.raw_length = "raw", declared
    llm_server.raw = json.dumps({"choices": [{"message": {"content": content}}]}).encode()
    reply = Responder(_endpoint_settings(llm_server, max_reply_bytes=64 * 1024)).reply("Hello", NEUTRAL)
    assert reply.source is ReplySource.OFFLINE and reply.fallback_reason == "reply too large"


HOSTILE_REPLY = "Hello\x00 there \x1b[2J\x1b[H friend\x1b]0;pwned\x07 \U0001F600 caf\u00e9\ud800 \x9b31m\u202eok\r\nbye\x7f"


def test_control_characters_and_escapes_are_stripped_from_an_endpoint_reply(llm_server):
    llm_server.behaviour = "raw"
    llm_server.raw = json.dumps({"choices": [{"message": {"content": HOSTILE_REPLY}, "finish_reason": "stop"}]}).encode()
    reply = Responder(_endpoint_settings(llm_server)).reply("Hello", NEUTRAL)
    assert reply.source is ReplySource.ENDPOINT
    assert reply.text == "Hello there friend \U0001F600 caf\u00e9 ok bye"
    reply.text.encode("utf-8")  # no unpaired surrogate left: it encodes (and pygame can draw it)


def test_plain_text_keeps_real_unicode_and_removes_what_a_terminal_would_obey():
    family = "\U0001F468\u200d\U0001F469\u200d\U0001F467"  # one emoji made with zero-width joiners
    assert plain_text(f"Ça va? Sí, {family} \u2764\ufe0f 東京") == f"Ça va? Sí, {family} \u2764\ufe0f 東京"
    assert plain_text("a\x1b[31mred\x1b[0m b\x1bc c\x1bP1;2|x\x1b\\ d\x9d8;;http://x\x9c e") == "ared b c d e"
    assert plain_text("one\r\ntwo\tthree\x00") == "one  two three"
    assert plain_text("one\r\ntwo\tthree\x0b", keep_newlines=True) == "one\ntwo\tthree "
    assert plain_text("\x1b]52;c;cGF3bmVk") == ""  # an unterminated OSC (clipboard write) swallows the rest


# --- The controller and the text line ------------------------------------------------------------


class _SlowResponder:
    def __init__(self):
        self.release = threading.Event()

    def reply(self, text, context):
        self.release.wait(5.0)
        return Responder(ChatSettings()).reply(text, context)


def test_controller_submit_returns_at_once_and_poll_gets_the_reply_later():
    slow = _SlowResponder()
    controller = ChatController(ChatSettings(), responder=slow)
    start = time.perf_counter()
    assert controller.submit("  hello   there ", NEUTRAL)
    assert time.perf_counter() - start < 1.0  # the responder holds it 5 s; 1 s leaves room for a busy machine
    assert controller.busy and controller.waiting and controller.load_extra(0.0) == pytest.approx(0.2)
    assert controller.poll(0.0) is None
    assert not controller.submit("again", NEUTRAL)  # one message at a time
    slow.release.set()
    reply = controller.wait(5.0)
    assert reply is not None and reply.text
    assert [e.type for e in controller.events] == ["chat_user", "chat_reply"]
    assert controller.events[0].record() == {"length": len("hello there")}
    assert "text" not in controller.events[1].record() and controller.events[1].source == "offline"


def test_controller_logs_text_only_when_asked():
    controller = ChatController(ChatSettings(log_text=True))
    controller.submit(FINE, SMILING)
    reply = controller.wait(5.0)
    assert controller.events[0].text == FINE and controller.events[1].text == reply.text


def test_chat_events_hold_only_lengths_by_default():
    controller = ChatController(ChatSettings())
    controller.submit(FINE, SMILING)
    reply = controller.wait(5.0)
    records = [event.record() for event in controller.pop_events()]
    assert records == [{"length": len(FINE)}, {"length": len(reply.text), "source": "offline", "latency_ms": records[1]["latency_ms"]}]
    assert "fine" not in json.dumps(records).lower()


def _run_settings(*argv: str):
    from avatar.cli import build_run_parser, settings_from_args

    return settings_from_args(build_run_parser().parse_args(["--source", "demo", *argv]))


def test_log_chat_text_is_off_by_default_even_with_a_log_dir_and_is_named_in_session_json(tmp_path):
    default = _run_settings("--log-dir", str(tmp_path))
    assert default.chat.log_text is False and default.to_json()["chat"]["log_text"] is False
    asked = _run_settings("--log-dir", str(tmp_path), "--log-chat-text")
    assert asked.chat.log_text is True and asked.to_json()["chat"]["log_text"] is True
    json.dumps(asked.to_json())  # session.json's "settings" holds it as it is


def test_log_chat_text_is_refused_in_exhibit_mode():
    from avatar.errors import CliError

    with pytest.raises(CliError, match="--log-chat-text"):
        _run_settings("--mode", "exhibit", "--chat", "--log-chat-text")
    assert _run_settings("--mode", "exhibit", "--chat").chat.log_text is False


def test_the_chat_command_keeps_nothing_so_has_no_log_chat_text_flag():
    from avatar.errors import CliError

    with pytest.raises(CliError, match="--log-chat-text"):
        build_chat_parser().parse_args(["--source", "x.png", "--log-chat-text"])


def test_controller_reveals_words_at_the_set_rate_and_moves_the_mouth():
    settings = ChatSettings(words_per_s=2.0, hold_s=1.0, load_extra=0.25)
    controller = ChatController(settings, clock=lambda: 100.0)
    controller.submit(FINE, WINCING)
    reply = controller.wait(5.0)  # it starts speaking when it arrives: at the clock's 100 s
    words = reply.text.split()
    assert controller.speaking_text(100.0) == words[0]
    assert controller.speaking_text(100.0 + 1.0) == " ".join(words[:3])
    end = 100.0 + len(words) / 2.0
    assert controller.speaking_text(end + 0.5) == reply.text  # held whole ...
    assert controller.speaking_text(end + 1.5) == ""  # ... then gone
    mouth = [controller.mouth_open(100.0 + i * 0.05) for i in range(int(len(words) / 2.0 / 0.05))]
    assert all(0.0 <= m <= 1.0 for m in mouth) and max(mouth) - min(mouth) > 0.5
    assert controller.mouth_open(end + 0.1) == 0.0
    assert controller.load_extra(100.5) == pytest.approx(0.25) and controller.load_extra(end + 0.1) == 0.0


def test_controller_ignores_blank_text():
    controller = ChatController(ChatSettings())
    assert not controller.submit("   ", NEUTRAL)
    assert controller.events == [] and not controller.busy


def _type(box: TextInput, text: str):
    for char in text:
        box.feed_key(ord(char), char)


def test_text_input_typing_opens_enter_sends_and_resets():
    box = TextInput()
    assert not box.active and box.wants(ord("h"), "h")
    _type(box, "hellp")
    assert box.active and box.text == "hellp"
    box.feed_key(K_BACKSPACE, "\b")
    _type(box, "o é")
    assert box.text == "hello é"
    assert box.feed_key(K_RETURN, "\r") == "hello é"
    assert not box.active and box.text == ""


def test_text_input_escape_cancels_and_enter_on_empty_sends_nothing():
    box = TextInput()
    box.feed_key(K_RETURN, "\r")  # Enter opens an empty line
    assert box.active and box.text == ""
    assert box.feed_key(K_KP_ENTER, "\r") is None and not box.active
    _type(box, "oops")
    assert box.wants(K_ESCAPE, "\x1b")
    assert box.feed_key(K_ESCAPE, "\x1b") is None
    assert not box.active and box.text == ""
    assert not box.wants(K_ESCAPE, "\x1b")  # a closed line leaves Esc to the window


def test_text_input_takes_pygame_events_and_keeps_shortcuts_when_closed():
    import pygame

    box = TextInput(max_chars=3, opens_on_typing=False)
    assert not box.wants(pygame.K_f, "f")  # `f` stays the fullscreen key while the line is closed
    assert not box.wants_text("f") and not box.takes_text
    box.feed(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_RETURN, unicode="\r"))
    assert box.takes_text
    for event in _keys("abcd")[:-1]:
        box.feed(event)
    box.feed(pygame.event.Event(pygame.KEYUP, key=pygame.K_a, unicode="a"))
    assert box.text == "abc"  # each letter once, though SDL sent it as KEYDOWN and as TEXTINPUT
    assert box.feed(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_RETURN, unicode="\r")) == "abc"


def test_text_input_keeps_accents_and_other_scripts_and_shows_a_composition():
    import pygame

    box = TextInput()
    for text in ("tr", "è", "s ", "日本語"):  # è comes from a dead key or a layout: TEXTINPUT only, no KEYDOWN
        box.feed(pygame.event.Event(pygame.TEXTINPUT, text=text))
    assert box.active and box.text == "très 日本語"
    box.feed(pygame.event.Event(pygame.TEXTEDITING, text="にほ", start=2, length=0))
    assert box.text == "très 日本語" and box.composing == "にほ"
    assert box.feed(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_RETURN, unicode="\r")) is None  # the IME's Enter
    box.feed(pygame.event.Event(pygame.TEXTINPUT, text="日本"))  # ... commits the composition
    assert box.composing == "" and box.text == "très 日本語日本"
    box.feed(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_BACKSPACE, unicode="\b"))
    assert box.feed(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_RETURN, unicode="\r")) == "très 日本語日"


def _keys(text: str):
    """What SDL sends for typed letters: a KEYDOWN and a TEXTINPUT for each; then Enter (KEYDOWN only)."""
    import pygame

    keys = []
    for char in text:
        keys += [pygame.event.Event(pygame.KEYDOWN, key=ord(char), unicode=char), pygame.event.Event(pygame.TEXTINPUT, text=char)]
    return keys + [pygame.event.Event(pygame.KEYDOWN, key=pygame.K_RETURN, unicode="\r")]


def _send(overlay, event) -> bool:
    """An event to the overlay the way the window's runner routes it."""
    import pygame

    return overlay.on_text(event) if event.type == pygame.TEXTINPUT else overlay.on_key(event)


def test_overlay_hands_on_the_line_it_sent_once_so_a_mode_sees_typed_words():
    events = []
    overlay = ChatOverlay(ChatSettings(), lambda t_s, event: events.append(event), opens_on_typing=True)
    try:
        for event in _keys("quit")[:-1]:
            assert _send(overlay, event) and overlay.take_sent() is None
        assert overlay.on_key(_keys("")[-1])
        assert overlay.take_sent() == "quit"
        assert overlay.take_sent() is None
        assert [e.type for e in events] == ["chat_user"]  # it was sent to the chat as well
    finally:
        overlay.close()


class _ModeContext:
    """What ExhibitMode.draw uses of a run's ModeContext, off-window."""

    def __init__(self, painter):
        self.painter = painter
        self.camera_lost = False
        self.windowed = False


def _exhibit_frame(overlay):
    from avatar.modes.exhibit import ExhibitMode
    from avatar.presenter import Presenter, PresentSettings
    from avatar.render import AvatarRenderer
    from avatar.rig import NEUTRAL as NEUTRAL_CONTROLS
    from avatar.window import Display

    renderer = AvatarRenderer()
    presenter = Presenter(Display((640, 360), headless=True), renderer, ExhibitMode(), _ModeContext(renderer),
                          PresentSettings("test", show_status=False), overlay=overlay)
    presenter.draw(NEUTRAL_CONTROLS, None)
    return presenter.display.pygame.image.tostring(presenter.display.surface, "RGB")


def test_a_mode_that_draws_itself_still_shows_the_chat_line_and_bubble():
    overlay = ChatOverlay(ChatSettings(words_per_s=100.0), lambda t_s, event: None, opens_on_typing=True)
    try:
        plain = _exhibit_frame(None)
        for event in _keys("hello"):
            _send(overlay, event)
        overlay.controller.wait(5.0)  # the reply has arrived ...
        overlay.controller.submit = lambda *args: False  # (no second request)
        for event in _keys("typing")[:-1]:  # ... and a new line is being typed
            _send(overlay, event)
        bubble, _ = overlay.tick()
        assert bubble and overlay.caption() == "> typing_"
        with_chat = _exhibit_frame(overlay)
    finally:
        overlay.close()
    changed = sum(a != b for a, b in zip(plain, with_chat, strict=True))
    assert changed > 2000  # the bubble and the typed line, drawn over the exhibit's own view


def test_speaker_without_an_engine_gives_a_one_line_notice_and_goes_on():
    notices = []
    speaker = Speaker(on_notice=notices.append)
    if speaker.available:  # pragma: no cover - a machine with pyttsx3 and a driver
        speaker.close()
        pytest.skip("a speech engine is installed here")
    assert len(notices) == 1 and "\n" not in notices[0] and "pyttsx3" in notices[0]
    speaker.say("hello")  # does nothing, raises nothing
    speaker.wait()
    speaker.close()


# --- python -m avatar chat -------------------------------------------------------------------------


def test_command_chat_on_a_smiling_photo_prints_context_then_the_reply(capsys):
    assert command_chat(["--source", str(ASTRONAUT), "--say", FINE]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("face: smile ") and "smiling" in lines[0]
    assert lines[-1] == respond(FINE, FaceContext(True, smile=0.9, familiarity=0.2), random.Random(0))
    assert "tense" not in lines[-1]


def test_command_chat_on_a_wincing_photo_acknowledges_they_may_not_be_fine(capsys):
    assert command_chat(["--source", str(FIXTURES / "faces" / "wince.png"), "--say", FINE, "--familiarity", "friend"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert "tense" in lines[0]
    assert any(phrase in lines[-1].lower() for phrase in MAY_NOT_BE_FINE)


def test_command_chat_reads_a_video_over_its_last_seconds(capsys):
    assert command_chat(["--source", str(FIXTURES / "no_face.mp4"), "--say", "Hello"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("face: none seen") and lines[-1]


def test_command_chat_interactive_prompt_ends_on_eof(capsys, monkeypatch):
    answers = iter(["Hello", ""])

    def fake_input(prompt=""):
        try:
            return next(answers)
        except StopIteration:
            raise EOFError from None

    monkeypatch.setattr("builtins.input", fake_input)
    assert command_chat(["--source", str(ASTRONAUT)]) == 0
    out = capsys.readouterr().out
    assert out.count("avatar> ") == 1


def test_command_chat_bad_source_is_a_source_error(tmp_path):
    with pytest.raises(SourceError, match="not found"):
        command_chat(["--source", str(tmp_path / "missing.png"), "--say", "hi"])


def test_command_chat_prints_no_terminal_escape_sequences(capsys, llm_server, tmp_path):
    import shutil

    hostile_name = tmp_path / "me\x1b[2J\x1b]0;pwned\x07.png"  # a file name is text from outside too
    shutil.copy(ASTRONAUT, hostile_name)
    llm_server.behaviour = "raw"
    llm_server.raw = json.dumps({"choices": [{"message": {"content": HOSTILE_REPLY}, "finish_reason": "stop"}]}).encode()
    assert command_chat(["--source", str(hostile_name), "--say", "Hello", "--chat-endpoint", llm_server.url]) == 0
    out = capsys.readouterr().out
    assert not any(char in out for char in "\x1b\x00\x07\x9b\x7f")
    lines = out.strip().splitlines()
    assert lines[0].endswith("[me.png]")
    assert lines[-1] == "Hello there friend \U0001F600 caf\u00e9 ok bye"
