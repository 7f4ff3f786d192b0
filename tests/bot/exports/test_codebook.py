"""The codebook: one column per question, and apart when two conversations mean otherwise."""

import json

from hypothesis import given
from hypothesis import strategies as st

from bot.exports.codebook import Codebook, _decoded
from conversations.loader import load_flow_file
from conversations.model import Flow
from tests.support.bot_harness import SAMPLE_FLOWS

CLINIC = load_flow_file(SAMPLE_FLOWS / "docs_example.yaml").flow  # age: equality, choices
SAMPLE = load_flow_file(SAMPLE_FLOWS / "sample.yaml").flow  # age: a number, not equality


def changed(flow: Flow, step_id: str | None = None, **changes) -> Flow:
    """Return a copy of a flow with its own fields, or one step's, changed."""
    data = flow.model_dump()
    if step_id is None:
        data.update(changes)
    else:
        [step] = [s for s in data["steps"] if s["id"] == step_id]
        step.update(changes)
    return Flow.model_validate(data)


def test_codebook_gives_each_conversation_its_column_when_an_id_means_otherwise():
    codebook = Codebook([CLINIC, SAMPLE])
    clinic_age = codebook.entry("drop-in-clinic", "age")
    sample_age = codebook.entry("sample", "age")
    assert clinic_age is not None
    assert sample_age is not None
    assert (clinic_age.column, clinic_age.kind, clinic_age.equality) == (
        "age (drop-in-clinic)",
        "single_choice",
        True,
    )
    assert (sample_age.column, sample_age.kind, sample_age.equality) == (
        "age (sample)",
        "number",
        False,
    )
    # The same id with other words is another question too; one only one asks is not renamed.
    assert [e.column for e in codebook.entries if e.step_id in ("rating", "visited", "used")] == [
        "visited",
        "rating (drop-in-clinic)",
        "used",
        "rating (sample)",
    ]
    assert codebook.entry("sample", "visited") is None
    header = codebook.header(linked_equality=False)
    assert "age (sample)" in header
    assert not any(column.startswith("age (drop-in-clinic)") for column in header)
    assert "age (drop-in-clinic)" in codebook.header(linked_equality=True)


def test_codebook_shares_a_column_when_two_conversations_ask_the_same_question():
    copy = changed(SAMPLE, id="sample-copy")
    codebook = Codebook([SAMPLE, copy])
    assert [e.column for e in codebook.entries] == [e.column for e in Codebook([SAMPLE]).entries]
    assert all(e.flows == {"sample", "sample-copy"} for e in codebook.entries)
    assert codebook.entry("sample", "age") == codebook.entry("sample-copy", "age")


def test_codebook_tells_apart_scales_that_differ_only_in_their_points():
    wider = changed(changed(SAMPLE, id="sample-copy"), "rating", max=10)
    codebook = Codebook([SAMPLE, wider])
    assert codebook.entry("sample", "rating") != codebook.entry("sample-copy", "rating")
    assert codebook.entry("sample", "change") == codebook.entry("sample-copy", "change")
    ten, five = codebook.entry("sample-copy", "rating"), codebook.entry("sample", "rating")
    assert ten is not None
    assert five is not None
    points = [len(codebook.with_scale_points(entry).options) for entry in (ten, five)]
    assert points == [10, 5]


def test_codebook_keeps_versions_of_one_conversation_in_one_column():
    newer = changed(changed(CLINIC, version=2), "rating", text="How useful was it?")
    codebook = Codebook([CLINIC, newer])
    rating = codebook.entry("drop-in-clinic", "rating")
    assert rating is not None
    assert (rating.column, rating.text) == ("rating", "How useful was it?")
    assert [e.column for e in codebook.entries].count("rating") == 1


def test_codebook_holds_back_a_question_marked_equality_in_an_older_version():
    unmarked = changed(changed(CLINIC, version=2), "age", equality=False)
    age = Codebook([CLINIC, unmarked]).entry("drop-in-clinic", "age")
    assert age is not None
    assert age.equality


@given(st.text())
def test_decoded_reads_stored_text_as_json_does(text):
    for stored in (json.dumps(text), json.dumps(text, ensure_ascii=False)):
        assert _decoded(stored) == json.loads(stored) == text


def test_decoded_reads_every_kind_of_answer():
    for value in (None, True, 3, 2.5, "o1", ["a", "b"], [], 'say "hi"', "back\\slash"):
        assert _decoded(json.dumps(value)) == value
