"""Every wire name follows the one convention written in contracts/README.md."""

import re
import types
import typing

import pytest
from pydantic import BaseModel

from contracts.envelope import Envelope
from contracts.messages import ALL, ChunkProcessed
from contracts.subjects import Subjects
from services.common import consumers
from services.gateway import schemas

SUBJECTS = {"job", "chunk", "passage", "report", "document", "request", "user", "llm", "db", "error"}
WORD = r"[a-z]+"
TYPE = re.compile(rf"^(?P<subject>{WORD})\.(?P<action>{WORD}(?:_{WORD})*)$")
FIELD = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")


def _snake(camel: str) -> list[str]:
    return [w.lower() for w in re.findall(r"[A-Z][a-z]*", camel)]


@pytest.mark.parametrize("message", ALL, ids=lambda m: m.TYPE)
def test_each_type_is_subject_dot_action_and_its_action_says_its_kind(message):
    match = TYPE.match(message.TYPE)
    assert match, f"{message.TYPE}: not <subject>.<action> in lowercase snake_case"
    assert match["subject"] in SUBJECTS
    last = match["action"].split("_")[-1]
    if message.KIND == "event":
        assert last.endswith("ed"), f"{message.TYPE}: an event ends in a past participle"
    elif message.KIND == "command":
        assert _snake(message.__name__)[0] == last, f"{message.TYPE}: a command ends in its class's verb"
    else:
        assert message.KIND == "record" and not last.endswith("ed"), f"{message.TYPE}: a record ends in a noun"


def test_types_are_unique():
    assert len({m.TYPE for m in ALL}) == len(ALL)


def _models(model: type[BaseModel], seen: set) -> list[type[BaseModel]]:
    """The model and every model nested in its fields."""
    if model in seen:
        return []
    seen.add(model)
    found = [model]
    for field in model.model_fields.values():
        for arg in _flatten(field.annotation):
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                found += _models(arg, seen)
    return found


def _flatten(annotation) -> list:
    args = typing.get_args(annotation)
    return [annotation] + [a for arg in args for a in _flatten(arg)] if args else [annotation]


def _api_models() -> list[type[BaseModel]]:
    return [m for m in vars(schemas).values() if isinstance(m, type) and issubclass(m, BaseModel)
            and m.__module__ == schemas.__name__]


def test_every_json_field_of_the_messages_the_envelope_and_the_api_is_snake_case():
    seen: set = set()
    models = [m for root in (*ALL, Envelope, *_api_models()) for m in _models(root, seen)]
    wrong = [f"{m.__name__}.{name}" for m in models for name, field in m.model_fields.items()
             if not FIELD.match(field.serialization_alias or field.alias or name)]
    assert len(models) > len(ALL) and wrong == []


def _json_type(annotation) -> str:
    """The type a field has in JSON: optional or not, and a Literal of strings is a string."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) is typing.Literal:
        return type(args[0]).__name__
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and len(args) == 1:
        return _json_type(args[0])
    return annotation.__name__ if isinstance(annotation, type) else repr(annotation).replace("typing.", "")


def test_a_field_name_has_one_type_in_every_message():
    seen: dict[str, set] = {}
    for message in ALL:
        for name, field in message.model_fields.items():
            seen.setdefault(name, set()).add(_json_type(field.annotation))
    assert len(seen) > 40 and {name: kinds for name, kinds in seen.items() if len(kinds) > 1} == {}


def test_subjects_and_consumers_are_named_from_the_type():
    subjects = Subjects("longform")
    for message in ALL:
        assert subjects.of(message.TYPE) == f"longform.{message.TYPE}"
        assert consumers.consumer_name("planner", message.TYPE) == f"planner-{message.TYPE.replace('.', '-')}"
    assert consumers.consumer_name("audit", consumers.EVERY_SUBJECT) == "audit-all"
    assert subjects.live("x").startswith("longform-live.") and subjects.anchor("x").startswith("longform-anchors.")


def test_target_words_is_the_jobs_target_and_a_chunks_share_is_budget_words():
    about_a_chunk = [m for m in ALL if "chunk_index" in m.model_fields]
    assert about_a_chunk and not [m.TYPE for m in about_a_chunk if "target_words" in m.model_fields]
    assert not [m.TYPE for m in ALL if "budget_words" in m.model_fields and "chunk_index" not in m.model_fields]


def test_a_chunk_message_sent_before_the_rename_still_reads():
    old = ChunkProcessed.model_validate({"chunk_index": 2, "target_words": 400, "output_words": 410, "passed": True,
                                         "attempts": 1})
    assert old.budget_words == 400 and "target_words" not in old.model_dump()
