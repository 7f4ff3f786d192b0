import re
from pathlib import Path

import pytest

from conversations.loader import load_flow_file, shipped_flows_dir
from conversations.mermaid import condition_text, mermaid
from conversations.model import Condition, Flow

SAMPLE = Path(__file__).parents[1] / "data" / "flows" / "sample.yaml"

# What a label may hold: plain characters, Mermaid entities (#34;) and our own line break.
LABEL = r'(?:[^"\[\](){}<>|#;`&\n]|#\d+;|<br/>)*'
NODE = re.compile(
    rf'^ +(?P<id>\w+)(?:\(\["{LABEL}"\]\)|\["{LABEL}"\]|\("{LABEL}"\)|\[/"{LABEL}"/\])$'
)
EDGE = re.compile(rf"^ +(?P<source>\w+) -->(?:\|(?P<label>{LABEL})\|)? (?P<target>\w+)$")
SUBGRAPH = re.compile(rf'^ +subgraph \w+\["{LABEL}"\]$')


@pytest.fixture
def sample() -> Flow:
    return load_flow_file(SAMPLE).flow


def edges(chart: str) -> list[tuple[str, str | None, str]]:
    found = []
    for line in chart.splitlines():
        match = EDGE.match(line)
        if match:
            found.append((match["source"], match["label"], match["target"]))
    return found


def node_ids(chart: str) -> dict[str, str]:
    """Map each step id to its node id, read back from the node labels."""
    found = {}
    for line in chart.splitlines():
        match = NODE.match(line)
        label = re.search(r'"(\S+) · ', line)
        if match and label:
            found[label[1]] = match["id"]
    return found


def assert_valid_syntax(chart: str) -> None:
    lines = chart.splitlines()
    assert lines[0] == "flowchart TD"
    depth = 0
    for line in lines[1:]:
        if SUBGRAPH.match(line):
            depth += 1
        elif line.strip() == "end":
            depth -= 1
            assert depth >= 0, line
        else:
            assert NODE.match(line) or EDGE.match(line), f"not a node or an edge: {line!r}"
    assert depth == 0


def test_mermaid_starts_with_flowchart_td(sample: Flow) -> None:
    chart = mermaid(sample)
    assert chart.startswith("flowchart TD\n")
    assert_valid_syntax(chart)


def test_mermaid_every_step_appears(sample: Flow) -> None:
    chart = mermaid(sample)
    nodes = node_ids(chart)
    assert set(nodes) == {step.id for step in sample.steps}
    assert len(set(nodes.values())) == len(nodes)
    assert "used · yes_no<br/>Have you used the service?" in chart
    assert "change · free_text · required<br/>" in chart


def test_mermaid_conditional_edge_is_labelled_and_default_is_not(sample: Flow) -> None:
    chart = mermaid(sample)
    nodes = node_ids(chart)
    found = edges(chart)
    assert (nodes["used"], "used = no", nodes["why_not"]) in found
    assert (nodes["used"], None, nodes["rating"]) in found
    assert (nodes["contact"], None, nodes["change"]) in found
    assert sum(1 for _, label, _ in found if label) == 1


def test_mermaid_end_is_reachable_from_start_through_every_step(sample: Flow) -> None:
    chart = mermaid(sample)
    outgoing: dict[str, set[str]] = {}
    for source, _, target in edges(chart):
        outgoing.setdefault(source, set()).add(target)
    seen = {"START"}
    todo = ["START"]
    while todo:
        for target in outgoing.get(todo.pop(), set()):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    assert "END" in seen
    assert set(node_ids(chart).values()) <= seen


def test_mermaid_draws_sections_as_subgraphs(sample: Flow) -> None:
    chart = mermaid(sample)
    lines = chart.splitlines()
    start = next(i for i, line in enumerate(lines) if SUBGRAPH.match(line))
    assert "about · About you" in lines[start]
    assert lines[start + 1].strip().startswith(node_ids(chart)["age"] + "[")
    assert lines[start + 2].strip() == "end"


def test_mermaid_tricky_text_does_not_break_the_syntax(sample: Flow) -> None:
    data = sample.model_dump()
    data["steps"][0]["text"] = "end"
    data["steps"][1]["text"] = 'Say "hi" [or] (not) {x}\n<b>a|b</b> #1; `c` & --> END\r\n\t%% no'
    data["steps"][2]["text"] = '"]) --> END\nsubgraph x'
    data["sections"][0]["title"] = 'About "you" ]\nend'
    data["steps"][3]["options"][0]["label"] = 'The "staff" [all]'
    chart = mermaid(Flow.model_validate(data))
    assert_valid_syntax(chart)
    assert "Say #34;hi#34; #91;or#93; #40;not#41; #123;x#125; #60;b#62;a#124;b" in chart
    assert "\r" not in chart
    assert "\t" not in chart


def test_mermaid_shortens_long_texts_on_a_word(sample: Flow) -> None:
    data = sample.model_dump()
    data["steps"][1]["text"] = "word " * 40
    chart = mermaid(Flow.model_validate(data))
    line = next(line for line in chart.splitlines() if "used · yes_no" in line)
    assert line.endswith('word…"]')
    assert len(line) < 120


def test_mermaid_labels_every_kind_of_condition(sample: Flow) -> None:
    data = sample.model_dump()
    data["steps"][2]["next"] = [
        {"when": [{"step": "rating", "at_least": 4}], "goto": "change"},
        {"when": [{"step": "rating", "skipped": True}], "goto": "change"},
        {"goto": "liked"},
    ]
    chart = mermaid(Flow.model_validate(data))
    labels = [label for _, label, _ in edges(chart)]
    assert "rating ≥ 4" in labels
    assert "rating skipped" in labels
    nodes = node_ids(chart)
    assert (nodes["rating"], None, nodes["liked"]) in edges(chart)


@pytest.mark.parametrize(
    ("condition", "text"),
    [
        ({"equals": "no"}, "q = no"),
        ({"equals": False}, "q = no"),
        ({"equals": True}, "q = yes"),
        ({"equals": 3}, "q = 3"),
        ({"any_of": ["a", "b"]}, "q = a or b"),
        ({"includes": "staff"}, "q includes staff"),
        ({"at_least": 4}, "q ≥ 4"),
        ({"at_most": 2.5}, "q ≤ 2.5"),
        ({"skipped": True}, "q skipped"),
        ({"skipped": False}, "q answered"),
    ],
)
def test_condition_text_is_short(condition: dict[str, object], text: str) -> None:
    assert condition_text(Condition.model_validate({"step": "q", **condition})) == text


def test_mermaid_joins_conditions_of_one_rule_with_and(sample: Flow) -> None:
    data = sample.model_dump()
    data["steps"][3]["next"] = [
        {
            "when": [{"step": "used", "equals": True}, {"step": "rating", "at_most": 2}],
            "goto": "change",
        }
    ]
    labels = [label for _, label, _ in edges(mermaid(Flow.model_validate(data)))]
    assert "used = yes and rating ≤ 2" in labels


def test_mermaid_shows_a_target_that_is_not_a_step(sample: Flow) -> None:
    data = sample.model_dump()
    data["steps"][4]["next"] = "nowhere"
    chart = mermaid(Flow.model_validate(data))
    assert_valid_syntax(chart)
    assert "not a step: nowhere" in chart


def test_mermaid_draws_every_shipped_flow() -> None:
    for path in sorted(shipped_flows_dir().glob("*.yaml")):
        assert_valid_syntax(mermaid(load_flow_file(path).flow))
