"""Meta-tests: every conversation Heard ships loads cleanly and reads plainly."""

import re
from pathlib import Path

import pytest

from conversations.loader import load_flow_dir, load_flow_file, shipped_flows_dir
from conversations.mermaid import mermaid
from conversations.model import (
    Flow,
    LocalText,
    MessageStep,
    MultipleChoiceStep,
    Question,
    SingleChoiceStep,
)

ROOT = Path(__file__).parents[2]
SHIPPED = sorted([*shipped_flows_dir().glob("*.yaml"), *shipped_flows_dir().glob("*.yml")])
DOCS = ROOT / "docs" / "conversations.md"
DOCS_EXAMPLE = ROOT / "tests" / "data" / "flows" / "docs_example.yaml"
EXAMPLE_MARKER = "<!-- example: tests/data/flows/docs_example.yaml -->"
GRAPH_MARKER = "<!-- graph: tests/data/flows/docs_example.yaml -->"
PREFER_NOT = re.compile(r"prefer[ _-]not", re.IGNORECASE)
MAX_QUESTION_CHARS = 200
MAX_AVERAGE_SENTENCE_WORDS = 15


def texts(text: LocalText) -> list[str]:
    return [text] if isinstance(text, str) else list(text.values())


def questions(flow: Flow) -> list[Question]:
    return [step for step in flow.steps if not isinstance(step, MessageStep)]


def about_sections(flow: Flow) -> set[str]:
    return {
        section.id
        for section in flow.sections
        if "about" in section.id or any("about" in t.lower() for t in texts(section.title))
    }


def main_questions(flow: Flow) -> list[Question]:
    about = about_sections(flow)
    return [step for step in questions(flow) if step.section not in about]


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+|\n+", text.strip()) if s.strip()]


@pytest.fixture(params=SHIPPED, ids=lambda path: path.name)
def shipped(request: pytest.FixtureRequest) -> Flow:
    return load_flow_file(request.param).flow


def test_shipped_flows_exist() -> None:
    assert any(path.stem == "community-mental-health" for path in SHIPPED)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.name)
def test_shipped_flow_loads_with_no_errors_or_warnings(path: Path) -> None:
    assert load_flow_file(path).warnings == ()


def test_shipped_flow_folder_has_no_problems() -> None:
    flows, problems = load_flow_dir(shipped_flows_dir())
    assert [str(problem) for problem in problems] == []
    assert len(flows) == len(SHIPPED)


def test_shipped_flow_has_intro_consent_and_end(shipped: Flow) -> None:
    intro = shipped.intro
    for text in [intro.who, intro.duration, intro.data_use, intro.support, shipped.end]:
        assert all(t.strip() for t in texts(text))
    assert shipped.consent.version >= 1
    assert all(t.strip().endswith("?") for t in texts(shipped.consent.text))


def test_shipped_flow_says_where_to_get_urgent_help(shipped: Flow) -> None:
    for support in texts(shipped.intro.support):
        assert "999" in support
        assert "116 123" in support


def test_shipped_flow_about_questions_are_optional_with_prefer_not_to_say(shipped: Flow) -> None:
    about = about_sections(shipped)
    personal = [step for step in questions(shipped) if step.section in about]
    for step in personal:
        assert shipped.can_skip(step), f"{step.id} must be optional"
        assert isinstance(step, SingleChoiceStep | MultipleChoiceStep), step.id
        labels = [label for option in step.options for label in texts(option.label)]
        ids = [option.id for option in step.options]
        assert any(PREFER_NOT.search(text) for text in [*labels, *ids]), step.id


def test_community_flow_every_question_can_be_skipped() -> None:
    flow = load_flow_file(shipped_flows_dir() / "community-mental-health.yaml").flow
    assert all(flow.can_skip(step) for step in questions(flow))


def test_community_flow_has_8_to_16_main_questions() -> None:
    flow = load_flow_file(shipped_flows_dir() / "community-mental-health.yaml").flow
    assert 8 <= len(main_questions(flow)) <= 16
    assert about_sections(flow), "the 'about you' questions belong in a section"
    assert any(step.equality for step in questions(flow))


def test_shipped_flow_question_texts_are_short(shipped: Flow) -> None:
    for step in questions(shipped):
        for text in texts(step.text):
            assert len(text) <= MAX_QUESTION_CHARS, f"{step.id}: {len(text)} characters"


def test_shipped_flow_sentences_are_short_on_average(shipped: Flow) -> None:
    lengths = [
        len(sentence.split())
        for step in questions(shipped)
        for text in texts(step.text)
        for sentence in sentences(text)
    ]
    assert sum(lengths) / len(lengths) <= MAX_AVERAGE_SENTENCE_WORDS


def docs_block(marker: str, language: str) -> str:
    doc = DOCS.read_text(encoding="utf-8")
    assert marker in doc
    after = doc.split(marker, 1)[1]
    match = re.match(rf"\s*```{language}\n(.*?)^```", after, re.DOTALL | re.MULTILINE)
    assert match, f"{marker} must be followed by a ```{language} block"
    return match[1]


def test_docs_example_matches_its_test_data_file() -> None:
    assert docs_block(EXAMPLE_MARKER, "yaml") == DOCS_EXAMPLE.read_text(encoding="utf-8")


def test_docs_graph_is_what_heard_draws_for_the_example() -> None:
    assert docs_block(GRAPH_MARKER, "mermaid") == mermaid(load_flow_file(DOCS_EXAMPLE).flow)


def test_docs_example_loads_cleanly_and_shows_every_feature() -> None:
    loaded = load_flow_file(DOCS_EXAMPLE)
    # The example translates its title ahead of listing Welsh, which check notes as it should.
    assert [p.message for p in loaded.warnings] == ["title: text in cy, not in languages (en)"]
    flow = loaded.flow
    kinds = {"message", "free_text", "single_choice", "multiple_choice", "scale", "yes_no"}
    assert {step.kind for step in flow.steps} == {*kinds, "number"}
    assert any(isinstance(step.next, list) for step in flow.steps)
    assert flow.sections
    assert isinstance(flow.title, dict)
    assert "cy" in flow.title
