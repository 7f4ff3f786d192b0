"""Graph and content checks: each problem names its step and line."""

from __future__ import annotations

from textwrap import dedent

import pytest

from conversations.checks import check_flow
from conversations.loader import load_flow_file
from conversations.problems import Problem
from tests.conversations.conftest import HEADER, SAMPLE, flow_text, line_number, problems_in

# A yes/no, a single choice, a multiple choice and a scale, for conditions to look at.
QUESTIONS = """\
- id: hello
  kind: message
  text: Hello.
- id: used
  kind: yes_no
  text: Have you used it?
- id: contact
  kind: single_choice
  text: How did you get in touch?
  options:
    - {id: phone, label: Phone}
    - {id: visit, label: In person}
- id: liked
  kind: multiple_choice
  text: What helped?
  options:
    - {id: staff, label: The staff}
    - {id: place, label: The place}
- id: rating
  kind: scale
  text: How was it?
  min_label: bad
  max_label: good
"""

BILINGUAL_HEADER = """\
id: test
version: 1
languages: [en, cy]
title: {en: Test, cy: Prawf}
intro:
  who: {en: Us., cy: Ni.}
  duration: {en: Short., cy: Byr.}
  data_use: {en: Safe., cy: Diogel.}
  support: {en: Call 999., cy: Ffoniwch 999.}
consent: {version: 1, text: {en: "OK?", cy: "Iawn?"}}
end: {en: Thanks., cy: Diolch.}
"""


def only_problem(text: str) -> Problem:
    problems = problems_in(text)
    assert len(problems) == 1, "\n".join(map(str, problems))
    return problems[0]


def with_rule(condition: str) -> str:
    """Return a flow of QUESTIONS and then a step `last` whose rule has this condition."""
    last = dedent(
        f"""\
        - id: last
          kind: free_text
          text: Anything else?
          next:
            - when: [{condition}]
              goto: end
        - id: after
          kind: message
          text: One more thing.
        """
    )
    return flow_text(QUESTIONS + last)


def test_check_flow_passes_the_sample() -> None:
    assert load_flow_file(SAMPLE).warnings == ()


def test_check_flow_passes_a_clean_bilingual_flow() -> None:
    text = BILINGUAL_HEADER + dedent(
        """\
        sections:
          - {id: about, title: {en: About you, cy: Amdanoch chi}}
        steps:
          - id: mood
            kind: scale
            section: about
            text: {en: "How are you?", cy: "Sut ydych chi?"}
            min_label: {en: low, cy: isel}
            max_label: {en: high, cy: uchel}
          - id: contact
            kind: single_choice
            text: {en: "How?", cy: "Sut?"}
            options:
              - {id: phone, label: {en: Phone, cy: Ffôn}}
              - {id: visit, label: {en: Visit, cy: Ymweliad}}
        """
    )

    assert problems_in(text) == []


def test_check_flow_reports_a_duplicate_step_id_alone() -> None:
    text = flow_text(QUESTIONS + "- {id: used, kind: free_text, text: Again}\n")

    problem = only_problem(text)

    assert problem.step == "used"
    assert problem.line == line_number(text, "{id: used")
    assert "the step id 'used' is used twice" in problem.message


def test_check_flow_reports_an_unknown_goto_target() -> None:
    text = flow_text(QUESTIONS.replace("text: How was it?", "text: How was it?\n  next: nowhere"))

    problem = only_problem(text)

    assert (problem.step, problem.line) == ("rating", line_number(text, "id: rating"))
    assert "goes to 'nowhere', which is not a step" in problem.message


def test_check_flow_reports_an_unknown_rule_target() -> None:
    problem = only_problem(
        with_rule("{step: used, equals: true}").replace("goto: end", "goto: nowhere")
    )

    assert problem.step == "last"
    assert "goes to 'nowhere'" in problem.message


def test_check_flow_reports_an_unknown_section() -> None:
    text = flow_text(QUESTIONS.replace("text: How was it?", "text: How was it?\n  section: nope"))

    problem = only_problem(text)

    assert (problem.step, problem.line) == ("rating", line_number(text, "id: rating"))
    assert "unknown section 'nope'" in problem.message


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("{step: ghost, equals: x}", "looks at 'ghost', which is not a step"),
        ("{step: hello, skipped: true}", "looks at 'hello', a message with no answer"),
        ("{step: after, equals: x}", "looks at 'after', a message with no answer"),
        ("{step: contact, equals: email}", "'email' is not an option of 'contact'"),
        ("{step: contact, any_of: [phone, email]}", "'email' is not an option of 'contact'"),
        ("{step: liked, includes: cost}", "'cost' is not an option of 'liked'"),
        ("{step: used, equals: yes}", "'used' is yes/no: compare it with true or false"),
        ("{step: used, any_of: [yes, no]}", "'used' is yes/no: compare it with true or false"),
        ("{step: contact, includes: phone}", "'includes' needs a multiple choice question"),
        ("{step: liked, equals: staff}", "'liked' is multiple choice: test it with includes"),
        ("{step: liked, any_of: [staff]}", "'liked' is multiple choice: test it with includes"),
        ("{step: contact, at_least: 1}", "at_least/at_most need a scale or number question"),
        ("{step: liked, at_most: 1}", "at_least/at_most need a scale or number question"),
        ("{step: used, at_least: 1}", "at_least/at_most need a scale or number question"),
    ],
)
def test_check_flow_reports_a_bad_condition(condition: str, message: str) -> None:
    text = with_rule(condition)

    problem = only_problem(text)

    assert (problem.step, problem.line) == ("last", line_number(text, "id: last"))
    assert message in problem.message


@pytest.mark.parametrize(
    "condition",
    [
        "{step: used, equals: false}",
        "{step: used, skipped: true}",
        "{step: contact, any_of: [phone, visit]}",
        "{step: liked, includes: staff}",
        "{step: rating, at_least: 4}",
        "{step: rating, equals: 3}",
        "{step: last, equals: nothing}",  # a step may branch on its own answer
    ],
)
def test_check_flow_accepts_a_good_condition(condition: str) -> None:
    assert problems_in(with_rule(condition)) == []


def test_check_flow_reports_a_condition_on_a_later_step() -> None:
    text = flow_text(
        QUESTIONS.replace(
            "text: Have you used it?",
            "text: Used?\n  next:\n    - when: [{step: rating, at_least: 3}]\n      goto: liked",
        )
    )

    problem = only_problem(text)

    assert (problem.step, problem.line) == ("used", line_number(text, "id: used"))
    assert "looks at 'rating', which comes later" in problem.message


def test_check_flow_reports_an_unreachable_step() -> None:
    text = flow_text(QUESTIONS.replace("text: Have you used it?", "text: Used?\n  next: liked"))

    problem = only_problem(text)

    assert (problem.step, problem.line) == ("contact", line_number(text, "id: contact"))
    assert "unreachable" in problem.message


def test_check_flow_reports_questions_that_loop_with_no_way_out() -> None:
    text = flow_text(
        """\
        - {id: first, kind: yes_no, text: "First?", next: second}
        - {id: second, kind: free_text, text: "Second?", next: first}
        """
    )

    problems = problems_in(text)

    assert [(p.step, p.line) for p in problems] == [
        ("first", line_number(text, "id: first")),
        ("second", line_number(text, "id: second")),
    ]
    assert all("loop with no way out" in p.message for p in problems)


def test_check_flow_accepts_a_loop_with_a_way_out() -> None:
    text = flow_text(
        """\
        - {id: first, kind: free_text, text: "First?"}
        - id: again
          kind: yes_no
          text: Answer the first again?
          next:
            - when: [{step: again, equals: true}]
              goto: first
        """
    )

    assert problems_in(text) == []


def test_check_flow_reports_messages_that_loop_without_a_question() -> None:
    text = flow_text(
        """\
        - {id: used, kind: yes_no, text: "Used?"}
        - {id: one, kind: message, text: One.}
        - id: two
          kind: message
          text: Two.
          next:
            - when: [{step: used, equals: true}]
              goto: one
        """
    )

    problems = problems_in(text)

    assert [(p.step, p.line) for p in problems] == [
        ("one", line_number(text, "id: one")),
        ("two", line_number(text, "id: two")),
    ]
    assert all("messages loop back" in p.message for p in problems)


def test_check_flow_reports_each_missing_translation_by_field() -> None:
    text = BILINGUAL_HEADER.replace("end: {en: Thanks., cy: Diolch.}", "end: Thanks.") + dedent(
        """\
        steps:
          - id: hello
            kind: message
            text: {en: Hello., cy: Helo.}
          - id: mood
            kind: scale
            text: {en: "How are you?", cy: "Sut ydych chi?"}
            min_label: {en: low}
            max_label: {en: high, cy: uchel}
          - id: contact
            kind: single_choice
            text: {en: "How?", cy: "Sut?"}
            options:
              - {id: phone, label: Phone}
              - {id: visit, label: {en: Visit, cy: Ymweliad}}
        """
    )

    problems = problems_in(text)

    assert [(p.step, p.line, p.message) for p in problems] == [
        (None, line_number(text, "end: Thanks."), "end: no text for cy"),
        ("mood", line_number(text, "min_label"), "steps.1.min_label: no text for cy"),
        ("contact", line_number(text, "id: phone"), "steps.2.options.0.label: no text for cy"),
    ]


def test_check_flow_reports_a_translation_missing_the_first_language() -> None:
    text = BILINGUAL_HEADER.replace("title: {en: Test, cy: Prawf}", "title: {cy: Prawf}")
    text += "steps:\n  - {id: hi, kind: message, text: {en: Hi., cy: Shwmae.}}\n"

    problem = only_problem(text)

    assert (problem.step, problem.line) == (None, line_number(text, "title:"))
    assert problem.message == "title: no text for en"


@pytest.mark.parametrize(
    ("steps", "needle", "step", "message"),
    [
        (
            "- id: pick\n  kind: single_choice\n  text: Pick.\n  options:\n"
            "    - {id: a, label: A}\n    - {id: a, label: B}\n",
            "id: pick",
            "pick",
            "two options have the same id",
        ),
        (
            "- id: pick\n  kind: multiple_choice\n  text: Pick.\n  max_choices: 3\n  options:\n"
            "    - {id: a, label: A}\n    - {id: b, label: B}\n",
            "id: pick",
            "pick",
            "max_choices is more than the number of options",
        ),
    ],
)
def test_check_flow_reports_step_content_problems(
    steps: str, needle: str, step: str, message: str
) -> None:
    text = flow_text(steps)

    problem = only_problem(text)

    assert (problem.step, problem.line) == (step, line_number(text, needle))
    assert message in problem.message


def test_check_flow_reports_a_step_named_end() -> None:
    text = flow_text(QUESTIONS + "- {id: end, kind: message, text: Bye.}\n")

    problems = problems_in(text)

    assert (problems[0].step, problems[0].line) == ("end", line_number(text, "id: end"))
    assert "'end' is reserved" in problems[0].message


def test_check_flow_reports_a_language_listed_twice() -> None:
    text = flow_text("- {id: hi, kind: message, text: Hi.}\n", HEADER + "languages: [en, en]\n")

    problems = problems_in(text)

    assert (problems[0].step, problems[0].line) == (None, line_number(text, "languages:"))
    assert problems[0].message == "a language is listed twice in languages"


def test_check_flow_reports_a_section_listed_twice() -> None:
    sections = "sections:\n  - {id: s, title: S}\n  - {id: s, title: T}\n"
    text = flow_text("- {id: hi, kind: message, text: Hi.}\n", HEADER + sections)

    problem = only_problem(text)

    assert (problem.step, problem.line) == (None, line_number(text, "{id: s, title: S}"))
    assert problem.message == "a section id is used twice"


def test_check_flow_without_line_information_falls_back_to_line_one() -> None:
    flow = load_flow_file(SAMPLE).flow
    broken = flow.model_copy(update={"languages": ["en", "cy"]})

    problems = check_flow(broken, "memory", {}, {})

    assert problems
    assert {(p.file, p.line) for p in problems} == {("memory", 1)}


def test_check_flow_reports_text_in_a_language_not_listed() -> None:
    text = flow_text("- id: used\n  kind: yes_no\n  text: {en: 'Used it?', cym: 'Defnyddio?'}\n")

    problem = only_problem(text)

    assert problem.step == "used"
    assert "text in cym, not in languages (en)" in problem.message


def test_check_flow_reports_a_whole_number_nobody_could_give() -> None:
    text = flow_text("- {id: hours, kind: number, text: 'Hours?', min: 0.5, max: 0.7}\n")

    problem = only_problem(text)

    assert (problem.step, problem.line) == ("hours", line_number(text, "{id: hours"))
    assert "no whole number lies between min and max" in problem.message
