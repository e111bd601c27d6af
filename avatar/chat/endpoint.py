"""The OpenAI-compatible endpoint client, its system prompt, and the Responder that falls back offline.

Sits on top of avatar.chat.responder (the offline answer and the safety check); the controller and the CLI use it."""

from __future__ import annotations

import json
import random
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass

from avatar.chat.context import FaceContext
from avatar.chat.responder import is_safe_reply, respond
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


def ask_endpoint(
    text: str,
    context: FaceContext,
    settings: ChatSettings,
    history: Sequence[tuple[str, str]] = (),
    api_key: str | None = None,
) -> str:
    """One chat completion; raises EndpointFailure with a short reason for anything but a usable reply."""
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
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    # A local server must not go through a proxy set for the internet (it would fail or leak the text).
    handlers = [urllib.request.ProxyHandler({})] if _is_loopback(url) else []
    opener = urllib.request.build_opener(*handlers)
    try:
        with opener.open(request, timeout=settings.timeout_s) as response:
            raw = response.read(1_000_000)
    except urllib.error.HTTPError as exc:
        raise EndpointFailure(f"http {exc.code}") from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError) or "timed out" in str(exc.reason):
            raise EndpointFailure("timeout") from None
        raise EndpointFailure(f"unreachable: {type(exc.reason).__name__}") from None
    except TimeoutError:
        raise EndpointFailure("timeout") from None
    except OSError as exc:
        raise EndpointFailure(f"connection error: {type(exc).__name__}") from None
    try:
        payload = json.loads(raw.decode("utf-8"))
        choice = payload["choices"][0]
        content = choice.get("message", {}).get("content")
        if content is None:
            content = choice.get("text")
        finish = choice.get("finish_reason")
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, IndexError, TypeError, AttributeError):
        raise EndpointFailure("bad json") from None
    if finish == "content_filter":
        raise EndpointFailure("refusal (content_filter)")
    if not isinstance(content, str) or not content.strip():
        raise EndpointFailure("empty reply")
    content = " ".join(content.split())
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
            answer = respond(text, context, self.rng, self.settings.responder)
        self.history.append((text, answer))
        del self.history[: -max(1, self.settings.history_turns)]
        return ChatReply(answer, source, reason, (time.perf_counter() - start) * 1000.0)
