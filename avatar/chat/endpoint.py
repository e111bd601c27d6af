"""The OpenAI-compatible endpoint client, its system prompt, and the Responder that falls back offline.

Sits on top of avatar.chat.responder (the offline answer and the safety check); the controller and the CLI use it."""

from __future__ import annotations

import http.client
import json
import random
import re
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass

from avatar.chat.context import FaceContext
from avatar.chat.responder import is_safe_reply, plain_text, respond
from avatar.chat.settings import ChatSettings, ReplySource, ResponderSettings

# --------------------------------------------------------------------------------------------------
# The endpoint client (OpenAI-compatible /v1/chat/completions)
# --------------------------------------------------------------------------------------------------


class EndpointFailure(Exception):
    """The endpoint gave no usable reply; `reason` is short and safe to log (no key, no text)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


_REFUSAL = re.compile(
    r"^\W*(i can(no|')t|i cannot|i am unable|i'm unable|i am not able|i'm not able|i won'?t|sorry, (but )?i can|"
    r"i'm sorry, (but )?i can|as an ai)\b",
    re.IGNORECASE,
)


def endpoint_url(url: str) -> str:
    """`http://host:port` -> `http://host:port/v1/chat/completions`; a full .../chat/completions URL stays as given."""
    url = url.strip()
    if not re.match(r"^https?://", url, re.IGNORECASE):
        raise ValueError(f"--chat-endpoint {url!r} must start with http:// or https://")
    base = url.rstrip("/")
    if base.endswith("/chat/completions"):
        return base
    if base.endswith("/v1"):
        return base + "/chat/completions"
    return base + "/v1/chat/completions"


def system_prompt(context: FaceContext, settings: ResponderSettings = ResponderSettings()) -> str:  # noqa: B008  (a frozen dataclass)
    return (
        "You are a friendly mirror avatar in a speech bubble. Answer in one or two short, kind sentences "
        f"(at most {settings.max_words} words). Take the person's face into account as well as their words: "
        "if the words and the face disagree, gently say so and ask. Never diagnose, never make medical or "
        "psychological claims, and never mention numbers or sensors. "
        f"What you see now: {context.describe(settings)}"
    )


def _is_loopback(url: str) -> bool:
    host = (urllib.parse.urlsplit(url).hostname or "").lower()
    return host in ("localhost", "::1") or host.startswith("127.")


class _Cutoff:
    """The sockets of one request, so the deadline can shut them from the waiting thread.

    A shut socket wakes the request's thread at once, whatever it was waiting for, and it ends.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._cut = False

    def opened(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            cut = self._cut
        if cut:  # connected after the deadline: nothing more goes out
            _shut(sock)

    def cut(self) -> None:
        with self._lock:
            self._cut = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:  # already closed or never connected
        pass


class _CutoffHandler:
    """An HTTP(S) handler whose connections report their socket to a _Cutoff once connected."""

    def __init__(self, cutoff: _Cutoff, **kwargs):
        super().__init__(**kwargs)
        self._cutoff = cutoff

    def do_open(self, http_class, req, **http_conn_args):
        cutoff = self._cutoff

        def connection(host, **kwargs):
            conn = http_class(host, **kwargs)
            connect = conn.connect

            def connect_and_report() -> None:
                connect()
                cutoff.opened(conn.sock)

            conn.connect = connect_and_report
            return conn

        return super().do_open(connection, req, **http_conn_args)


class _HTTPHandler(_CutoffHandler, urllib.request.HTTPHandler):
    pass


class _HTTPSHandler(_CutoffHandler, urllib.request.HTTPSHandler):
    pass


def _opener(url: str, cutoff: _Cutoff) -> urllib.request.OpenerDirector:
    """http and https only, and no redirect handler: a 3xx is an HTTPError, never followed.

    Following one would re-send the key to another host, or open another scheme (ftp://, file://).
    """
    opener = urllib.request.OpenerDirector()
    # A local server must not go through a proxy set for the internet (it would fail or leak the text).
    proxies = urllib.request.ProxyHandler({}) if _is_loopback(url) else urllib.request.ProxyHandler()
    for handler in (proxies, _HTTPHandler(cutoff), _HTTPSHandler(cutoff), urllib.request.UnknownHandler(),
                    urllib.request.HTTPDefaultErrorHandler(), urllib.request.HTTPErrorProcessor()):
        opener.add_handler(handler)
    return opener


def _read_capped(response, max_bytes: int) -> bytes:
    declared = (response.headers.get("Content-Length") or "").strip()
    if declared.isdigit() and int(declared) > max_bytes:
        raise EndpointFailure("reply too large")
    raw = response.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise EndpointFailure("reply too large")
    return raw


def _post(url: str, body: bytes, headers: dict[str, str], settings: ChatSettings) -> bytes:
    """POST and read the reply within `settings.timeout_s` in all (name lookup, connect, send, read).

    The exchange runs in a thread of its own; at the deadline its sockets are shut and the caller
    goes on, however slowly the server trickles its bytes.
    """
    deadline = time.monotonic() + settings.timeout_s
    cutoff = _Cutoff()
    opener = _opener(url, cutoff)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    result: dict[str, object] = {}

    def exchange() -> None:
        try:
            with opener.open(request, timeout=settings.timeout_s) as response:
                result["raw"] = _read_capped(response, settings.max_reply_bytes)
        except BaseException as exc:  # handed to the waiting thread, which names it
            result["error"] = exc

    worker = threading.Thread(target=exchange, name="chat-endpoint", daemon=True)
    worker.start()
    worker.join(max(0.0, deadline - time.monotonic()))
    if worker.is_alive():
        cutoff.cut()
        raise EndpointFailure("timeout")
    error = result.get("error")
    if error is None:
        return result["raw"]  # type: ignore[return-value]
    if isinstance(error, EndpointFailure):
        raise error
    if isinstance(error, urllib.error.HTTPError):
        error.close()
        if 300 <= error.code < 400:
            raise EndpointFailure("redirect")
        raise EndpointFailure(f"http {error.code}")
    if isinstance(error, urllib.error.URLError):
        if isinstance(error.reason, TimeoutError) or "timed out" in str(error.reason):
            raise EndpointFailure("timeout")
        raise EndpointFailure(f"unreachable: {type(error.reason).__name__}")
    if isinstance(error, TimeoutError):
        raise EndpointFailure("timeout")
    if isinstance(error, OSError):  # before HTTPException: a server that hangs up is a connection error
        raise EndpointFailure(f"connection error: {type(error).__name__}")
    if isinstance(error, http.client.HTTPException):
        raise EndpointFailure(f"bad http: {type(error).__name__}")
    raise EndpointFailure(f"error ({type(error).__name__})")


def _reply_of(raw: bytes) -> tuple[str | None, str | None]:
    """(content, finish_reason) of an OpenAI-style reply; EndpointFailure("bad json") for anything else.

    Not UTF-8, not JSON, nested too deeply for the parser, or not the expected shape: all "bad json".
    """
    try:
        payload = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise EndpointFailure("bad json") from None
    choices = payload.get("choices") if isinstance(payload, dict) else None
    choice = choices[0] if isinstance(choices, list) and choices else None
    if not isinstance(choice, dict):
        raise EndpointFailure("bad json")
    message = choice.get("message")
    content = message.get("content") if isinstance(message, dict) else None
    if content is None:
        content = choice.get("text")
    finish = choice.get("finish_reason")
    if not isinstance(content, str | None) or not isinstance(finish, str | None):
        raise EndpointFailure("bad json")
    return content, finish


def ask_endpoint(
    text: str,
    context: FaceContext,
    settings: ChatSettings,
    history: Sequence[tuple[str, str]] = (),
    api_key: str | None = None,
) -> str:
    """One chat completion; raises EndpointFailure with a short reason for anything but a usable reply.

    The reply is plain text (see plain_text) on one line; the whole exchange takes at most `timeout_s`.
    """
    if not settings.endpoint:
        raise EndpointFailure("no endpoint")
    try:
        url = endpoint_url(settings.endpoint)
    except ValueError as exc:
        raise EndpointFailure("bad endpoint url") from exc
    messages = [{"role": "system", "content": system_prompt(context, settings.responder)}]
    for user, avatar in history[-settings.history_turns :] if settings.history_turns else ():
        messages += [{"role": "user", "content": user}, {"role": "assistant", "content": avatar}]
    messages.append({"role": "user", "content": text})
    body = json.dumps(
        {
            "model": settings.model,
            "messages": messages,
            "max_tokens": settings.max_tokens,
            "temperature": settings.temperature,
            "stream": False,
        }
    ).encode()
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    content, finish = _reply_of(_post(url, body, headers, settings))
    if finish == "content_filter":
        raise EndpointFailure("refusal (content_filter)")
    content = " ".join(plain_text(content or "").split())
    if not content:
        raise EndpointFailure("empty reply")
    if _REFUSAL.match(content):
        raise EndpointFailure("refusal")
    if not is_safe_reply(content):
        raise EndpointFailure("unsafe reply")
    return content


@dataclass(frozen=True)
class ChatReply:
    """A reply as the window and the logs see it."""

    text: str
    source: ReplySource
    fallback_reason: str | None = None  # why the endpoint was not used, when it was asked
    latency_ms: float = 0.0


class Responder:
    """Answers one message at a time: the endpoint if set, else (or on failure) the offline responder.

    Owns the seeded rng and a short history, so two sessions in one process share nothing.
    """

    def __init__(self, settings: ChatSettings = ChatSettings(), environ: dict | None = None):  # noqa: B008  (a frozen dataclass)
        import os

        self.settings = settings
        self.rng = random.Random(settings.seed)
        self.history: list[tuple[str, str]] = []
        self._environ = os.environ if environ is None else environ

    def reply(self, text: str, context: FaceContext) -> ChatReply:
        start = time.perf_counter()
        reason = None
        source = ReplySource.OFFLINE
        answer = None
        if self.settings.endpoint:
            try:
                answer = ask_endpoint(
                    text, context, self.settings, self.history, api_key=self._environ.get(self.settings.api_key_env) or None
                )
                source = ReplySource.ENDPOINT
            except EndpointFailure as exc:
                reason = exc.reason
        if answer is None:
            # The offline reply may echo the words back: the same plain text as an endpoint's.
            answer = plain_text(respond(text, context, self.rng, self.settings.responder))
        self.history.append((text, answer))
        del self.history[: -max(1, self.settings.history_turns)]
        return ChatReply(answer, source, reason, (time.perf_counter() - start) * 1000.0)
