"""Loading conversation files: every problem names its file, line and step."""

from __future__ import annotations

from pathlib import Path

import pytest

from conversations.loader import (
    content_hash,
    flow_from_json,
    flow_to_json,
    load_flow_dir,
    load_flow_file,
    load_flow_text,
)
from conversations.model import SingleChoiceStep, YesNoStep
from conversations.problems import FlowError, Problem
from tests.conversations.conftest import (
    HEADER,
    SAMPLE,
    flow_text,
    line_number,
    load_text,
    problems_in,
)

GOOD_STEPS = """\
  - id: hello
    kind: message
    text: Hello.
  - id: mood
    kind: scale
    text: How are you?
    min_label: low
    max_label: high
"""


def only_problem(text: str) -> Problem:
    problems = problems_in(text)
    assert len(problems) == 1, "\n".join(map(str, problems))
    return problems[0]


def test_load_flow_text_reads_a_good_flow() -> None:
    loaded = load_text(flow_text(GOOD_STEPS))

    assert loaded.path == "broken.yaml"
    assert [step.id for step in loaded.flow.steps] == ["hello", "mood"]
    assert loaded.warnings == ()
    assert loaded.content_hash == content_hash(loaded.flow)


def test_load_flow_text_locates_a_yaml_syntax_error() -> None:
    text = flow_text(
        """\
        - id: hello
          kind: message
         text: one space short
        """
    )

    problem = only_problem(text)

    assert (problem.file, problem.step) == ("broken.yaml", None)
    assert problem.line == line_number(text, "one space short")
    assert problem.message.startswith("not valid YAML")


def test_load_flow_text_locates_a_duplicate_key_in_its_step() -> None:
    text = flow_text(
        """\
        - id: hello
          kind: message
          text: Hello.
        - id: mood
          kind: yes_no
          text: First wording?
          text: Second wording?
        """
    )

    problem = only_problem(text)

    assert (problem.file, problem.step) == ("broken.yaml", "mood")
    assert problem.line == line_number(text, "Second wording")
    assert "'text' appears twice" in problem.message


def test_load_flow_text_locates_a_duplicate_key_deep_in_a_step() -> None:
    text = flow_text(
        """\
        - id: contact
          kind: single_choice
          text: How did you get in touch?
          options:
            - {id: phone, label: Phone}
            - id: visit
              label: In person
              label: Visit
        """
    )

    problem = only_problem(text)

    assert (problem.line, problem.step) == (line_number(text, "label: Visit"), "contact")


def test_load_flow_text_locates_a_duplicate_key_outside_steps() -> None:
    text = HEADER + "title: Again\n" + "steps:\n" + GOOD_STEPS

    problem = only_problem(text)

    assert (problem.line, problem.step) == (line_number(text, "title: Again"), None)


def test_load_flow_text_locates_an_unknown_key_in_a_step() -> None:
    text = flow_text(
        """\
        - id: hello
          kind: message
          text: Hello.
        - id: mood
          kind: yes_no
          text: Feeling good?
          colour: blue
        """
    )

    problem = only_problem(text)

    assert (problem.file, problem.step) == ("broken.yaml", "mood")
    assert problem.line == line_number(text, "colour: blue")
    assert "colour" in problem.message
    assert "is not a known setting here" in problem.message


def test_load_flow_text_locates_a_wrong_kind() -> None:
    text = flow_text(
        """\
        - id: hello
          kind: message
          text: Hello.
        - id: mood
          kind: slider
          text: How are you?
        """
    )

    problem = only_problem(text)

    assert (problem.file, problem.step) == ("broken.yaml", "mood")
    assert problem.line == line_number(text, "kind: slider")
    assert "'slider' is not a step kind" in problem.message


@pytest.mark.parametrize(("low", "high"), [(5, 5), (5, 1), (0, 11)])
def test_load_flow_text_locates_a_scale_without_a_sensible_range(low: int, high: int) -> None:
    text = flow_text(
        f"""\
        - id: mood
          kind: scale
          text: How are you?
          min: {low}
          max: {high}
          min_label: low
          max_label: high
        """
    )

    problem = only_problem(text)

    assert (problem.line, problem.step) == (line_number(text, "id: mood"), "mood")
    assert "a scale needs from 2 to 11 points" in problem.message


def test_load_flow_text_locates_a_missing_required_field() -> None:
    text = flow_text(
        """\
        - id: hello
          kind: message
          text: Hello.
        - id: mood
          kind: scale
          text: How are you?
          min_label: low
        """
    )

    problem = only_problem(text)

    assert (problem.line, problem.step) == (line_number(text, "id: mood"), "mood")
    assert "max_label" in problem.message
    assert "is missing" in problem.message


def test_load_flow_text_names_a_step_without_an_id_by_its_place() -> None:
    text = flow_text(
        """\
        - id: hello
          kind: message
          text: Hello.
        - kind: yes_no
          text: Feeling good?
        """
    )

    problem = only_problem(text)

    assert (problem.line, problem.step) == (line_number(text, "kind: yes_no"), "#2")


def test_load_flow_text_locates_a_single_choice_with_one_option() -> None:
    text = flow_text(
        """\
        - id: contact
          kind: single_choice
          text: How did you get in touch?
          options:
            - {id: phone, label: Phone}
        """
    )

    problem = only_problem(text)

    assert (problem.line, problem.step) == (line_number(text, "id: phone"), "contact")
    assert "options" in problem.message
    assert "at least 2" in problem.message


def test_load_flow_text_keeps_yes_and_no_option_ids_as_text() -> None:
    text = flow_text(
        """\
        - id: again
          kind: single_choice
          text: Would you use it again?
          options:
            - {id: yes, label: Yes}
            - {id: no, label: No}
            - {id: on, label: "On and off"}
          next:
            - when: [{step: again, equals: yes}]
              goto: end
        - id: why
          kind: free_text
          text: Why not?
        """
    )

    step = load_text(text).flow.step("again")

    assert isinstance(step, SingleChoiceStep)
    assert [option.id for option in step.options] == ["yes", "no", "on"]
    assert [option.label for option in step.options] == ["Yes", "No", "On and off"]
    assert isinstance(step.next, list)
    assert step.next[0].when[0].equals == "yes"


def test_load_flow_text_still_reads_true_and_false_as_booleans() -> None:
    text = flow_text(
        """\
        - id: ok
          kind: yes_no
          text: OK?
          required: true
          next:
            - when: [{step: ok, equals: false}]
              goto: end
        - id: more
          kind: free_text
          text: Tell us more.
        """
    )

    step = load_text(text).flow.step("ok")

    assert isinstance(step, YesNoStep)
    assert step.required is True
    assert isinstance(step.next, list)
    assert step.next[0].when[0].equals is False


@pytest.mark.parametrize("text", ["", "# a comment\n", "- a list\n- of things\n", "just text"])
def test_load_flow_text_refuses_a_file_that_is_not_a_mapping(text: str) -> None:
    problem = only_problem(text)

    assert (problem.file, problem.line, problem.step) == ("broken.yaml", 1, None)
    assert "must be a YAML mapping" in problem.message


@pytest.mark.parametrize(
    ("bad", "needle"),
    [
        ("note: 2024-13-45", "2024-13-45"),  # PyYAML raises ValueError for this date
        ("note: !!int many", "!!int"),
        ("? [a, b]\n: c", "? [a, b]"),  # a key that is a list
        ("note: \x00", "note:"),  # a control character
    ],
)
def test_load_flow_text_turns_odd_yaml_into_a_located_problem(bad: str, needle: str) -> None:
    text = HEADER + bad + "\n"

    problem = only_problem(text)

    assert (problem.file, problem.step) == ("broken.yaml", None)
    assert problem.line == line_number(text, needle)


def test_load_flow_text_reports_every_model_error_at_once() -> None:
    text = flow_text(
        """\
        - id: a
          kind: yes_no
          text: A?
          colour: red
        - id: b
          kind: number
          text: B?
          min: 10
          max: 1
        """
    )

    problems = problems_in(text)

    assert {(p.step, p.line) for p in problems} == {
        ("a", line_number(text, "colour: red")),
        ("b", line_number(text, "id: b")),
    }


def test_load_flow_file_reports_an_unreadable_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"

    with pytest.raises(FlowError) as caught:
        load_flow_file(missing)

    [problem] = caught.value.problems
    assert (problem.file, problem.line, problem.step) == (str(missing), 1, None)
    assert "cannot read the file" in problem.message
    assert str(missing) in str(caught.value)


def test_load_flow_file_reports_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(flow_text(GOOD_STEPS).replace("Hello.", "Caf\xe9.").encode("latin-1"))

    with pytest.raises(FlowError) as caught:
        load_flow_file(path)

    assert "cannot read the file" in caught.value.problems[0].message


def test_load_flow_dir_returns_good_flows_and_every_problem(tmp_path: Path) -> None:
    good = flow_text(GOOD_STEPS)
    (tmp_path / "a.yaml").write_text(good, encoding="utf-8")
    (tmp_path / "b.yml").write_text(good, encoding="utf-8")
    (tmp_path / "c.yaml").write_text(good.replace("kind: scale", "kind: slider"), "utf-8")
    (tmp_path / "notes.txt").write_text("not a flow", encoding="utf-8")

    flows, problems = load_flow_dir(tmp_path)

    assert [Path(loaded.path).name for loaded in flows] == ["a.yaml", "b.yml"]
    assert all(loaded.flow.id == "test" for loaded in flows)
    by_file = {Path(p.file).name: p for p in problems}
    assert sorted(by_file) == ["b.yml", "c.yaml"]
    assert "'test' is also used by" in by_file["b.yml"].message
    assert by_file["b.yml"].message.endswith("a.yaml")
    assert by_file["c.yaml"].step == "mood"
    assert "'slider'" in by_file["c.yaml"].message


def test_load_flow_dir_of_an_empty_folder_is_empty(tmp_path: Path) -> None:
    assert load_flow_dir(tmp_path) == ([], [])


def test_content_hash_ignores_comments_and_layout() -> None:
    block = flow_text(GOOD_STEPS)
    relaid = (
        "# A comment that changes nothing.\n"
        + HEADER.replace("title: Test flow", "title: 'Test flow'   # quoted now")
        + "steps:\n"
        + "  - {id: hello, kind: message, text: Hello.}\n"
        + "  - {id: mood, kind: scale, text: 'How are you?', min_label: low, max_label: high,\n"
        + "     min: 1, max: 5, required: false}\n"
    )

    assert load_text(relaid).content_hash == load_text(block).content_hash


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("How are you?", "How are you today?"),
        ("version: 3", "version: 4"),
        ("max_label: high", "max_label: high\n  max: 7"),
        ("max_label: high", "max_label: high\n  required: true"),
    ],
)
def test_content_hash_changes_with_meaning(old: str, new: str) -> None:
    text = flow_text(GOOD_STEPS)
    changed = text.replace(old, new)
    assert changed != text

    assert load_text(changed).content_hash != load_text(text).content_hash


def test_flow_json_round_trips_with_the_same_hash() -> None:
    flow = load_flow_file(SAMPLE).flow

    again = flow_from_json(flow_to_json(flow))

    assert again == flow
    assert content_hash(again) == content_hash(flow)
    assert again.step("age") == flow.step("age")


def test_load_flow_text_error_message_names_file_line_and_step() -> None:
    text = flow_text(GOOD_STEPS.replace("kind: scale", "kind: slider"))

    with pytest.raises(FlowError) as caught:
        load_flow_text(text, "flows/feedback.yaml")

    line = line_number(text, "kind: slider")
    assert str(caught.value).startswith(f"flows/feedback.yaml:{line}: step 'mood' error: kind:")


def _with_follow_ups(flow_id: str, follow_ups: str) -> str:
    header = HEADER.replace("id: test", f"id: {flow_id}") + f"follow_ups:\n{follow_ups}"
    return flow_text(GOOD_STEPS, header)


def test_load_flow_dir_checks_follow_ups_across_files(tmp_path: Path) -> None:
    (tmp_path / "main.yaml").write_text(
        _with_follow_ups("main", "  - {flow: check-in, after_days: 14}\n"), "utf-8"
    )
    (tmp_path / "check-in.yaml").write_text(
        flow_text(GOOD_STEPS, HEADER.replace("id: test", "id: check-in")), "utf-8"
    )
    (tmp_path / "lost.yaml").write_text(
        _with_follow_ups(
            "lost", "  - {flow: check-in, after_days: 7}\n  - {flow: nowhere, after_days: 7}\n"
        ),
        "utf-8",
    )
    (tmp_path / "self.yaml").write_text(
        _with_follow_ups("self", "  - {flow: self, after_days: 30}\n"), "utf-8"
    )
    (tmp_path / "ping.yaml").write_text(
        _with_follow_ups("ping", "  - {flow: pong, after_days: 1}\n"), "utf-8"
    )
    (tmp_path / "pong.yaml").write_text(
        _with_follow_ups("pong", "  - {flow: ping, after_days: 1}\n"), "utf-8"
    )

    flows, problems = load_flow_dir(tmp_path)

    assert len(flows) == 6
    found = sorted((Path(p.file).name, p.line, p.message) for p in problems)
    follow_line = HEADER.count("\n") + 2
    assert found == [
        (
            "lost.yaml",
            follow_line + 1,
            "follow_ups: there is no conversation 'nowhere' in this folder "
            "(there are: check-in, lost, main, ping, pong, self)",
        ),
        ("ping.yaml", follow_line, "follow_ups go round in a circle: ping → pong → ping"),
        ("pong.yaml", follow_line, "follow_ups go round in a circle: pong → ping → pong"),
        ("self.yaml", follow_line, "follow_ups: a conversation cannot follow itself up"),
    ]


def test_content_hash_is_unchanged_by_an_empty_follow_up_list() -> None:
    plain = load_text(flow_text(GOOD_STEPS))
    listed = load_text(HEADER + "follow_ups: []\nsteps:\n" + GOOD_STEPS)
    with_one = load_text(
        HEADER + "follow_ups: [{flow: other, after_days: 3}]\nsteps:\n" + GOOD_STEPS
    )
    assert plain.content_hash == listed.content_hash
    assert with_one.content_hash != plain.content_hash


def test_content_hash_of_the_shipped_flow_is_what_deployments_stored() -> None:
    # Measured with the release before follow-ups existed: a changed hash here would make every
    # running deployment refuse to start (a changed flow keeping its version number).
    shipped = load_flow_file(
        Path(__file__).parent.parent.parent / "conversations/flows/community-mental-health.yaml"
    )
    assert shipped.flow.version == 1
    assert shipped.content_hash == (
        "35097f6c4b91b202b304b003faab0e95430622c126fd9cc8890f3f6399edc33e"
    )
