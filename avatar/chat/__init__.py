"""The avatar talks back: words + the face's recent expression -> a short, kind reply.

Sits on top of the pipeline, beside the modes; settings <- context <- responder <- endpoint <- controller <- cli."""

from __future__ import annotations

from avatar.chat.cli import (
    add_chat_arguments,
    build_chat_parser,
    chat_settings_from_args,
    command_chat,
    read_face_context,
)
from avatar.chat.context import (
    FaceContext,
    familiarity_word,
)
from avatar.chat.controller import (
    K_BACKSPACE,
    K_DELETE,
    K_ESCAPE,
    K_KP_ENTER,
    K_RETURN,
    K_TAB,
    KEYDOWN,
    ChatController,
    Speaker,
    TextInput,
)
from avatar.chat.endpoint import (
    ChatReply,
    EndpointFailure,
    Responder,
    ask_endpoint,
    endpoint_url,
    system_prompt,
)
from avatar.chat.responder import (
    BANNED_WORDS,
    INTENSIFIERS,
    NEGATIVE,
    NEGATORS,
    POSITIVE,
    Reply,
    TextReading,
    compose,
    is_safe_reply,
    plain_text,
    read_text,
    reflect,
    respond,
    sentiment,
)
from avatar.chat.settings import (
    ChatSettings,
    FaceCue,
    Intent,
    ReplySource,
    ResponderSettings,
    Tone,
)

__all__ = [
    "ResponderSettings",
    "ChatSettings",
    "ReplySource",
    "Intent",
    "Tone",
    "FaceCue",
    "familiarity_word",
    "FaceContext",
    "POSITIVE",
    "NEGATIVE",
    "NEGATORS",
    "INTENSIFIERS",
    "sentiment",
    "reflect",
    "TextReading",
    "read_text",
    "BANNED_WORDS",
    "is_safe_reply",
    "plain_text",
    "Reply",
    "compose",
    "respond",
    "EndpointFailure",
    "endpoint_url",
    "system_prompt",
    "ask_endpoint",
    "ChatReply",
    "Responder",
    "ChatController",
    "K_BACKSPACE",
    "K_TAB",
    "K_RETURN",
    "K_ESCAPE",
    "K_DELETE",
    "K_KP_ENTER",
    "KEYDOWN",
    "TextInput",
    "Speaker",
    "read_face_context",
    "add_chat_arguments",
    "chat_settings_from_args",
    "build_chat_parser",
    "command_chat",
]
