"""Draw a flow as a Mermaid flowchart: steps, routes with their conditions, sections."""

from __future__ import annotations

from conversations.model import (
    END,
    Condition,
    Flow,
    LocalText,
    MessageStep,
    Question,
    QuestionBase,
    text_in,
)
from conversations.routing import targets

START_NODE = "START"
END_NODE = "END"
TEXT_LIMIT = 60
# Characters left as they are in a label; everything else becomes a Mermaid entity (#NN;), so
# quotes, brackets, pipes, angle brackets and `#` in a text can never end a label early.
_PLAIN = frozenset(" ,.'?!:-_/=+*£€…’‘“”–—≥≤·")


def mermaid(flow: Flow) -> str:
    """Return a Mermaid `flowchart TD` of the flow, with sections as subgraphs."""
    nodes = {step.id: _node_id(i, step.id) for i, step in enumerate(flow.steps)}
    lines = ["flowchart TD", f'    {START_NODE}(["Start"])']
    sections = {section.id: number for number, section in enumerate(flow.sections)}
    drawn_sections: set[str] = set()
    # Nodes in file order; a section's steps are drawn together where its first step is.
    for step in flow.steps:
        section = flow.section(step.section) if step.section in sections else None
        if section is None:
            lines.append(f"    {_node(flow, nodes[step.id], step)}")
        elif section.id not in drawn_sections:
            drawn_sections.add(section.id)
            title = _escape(f"{section.id} · {_say(flow, section.title)}")
            lines.append(f'    subgraph section_{sections[section.id]}["{title}"]')
            members = [s for s in flow.steps if s.section == section.id]
            lines += [f"        {_node(flow, nodes[s.id], s)}" for s in members]
            lines.append("    end")
    lines.append(f'    {END_NODE}(["End"])')

    missing: dict[str, str] = {}
    lines.append(f"    {START_NODE} --> {nodes[flow.steps[0].id]}")
    for step in flow.steps:
        drawn: set[tuple[str, str]] = set()
        for target, label in zip(targets(flow, step), _labels(step), strict=True):
            if target == END:
                to = END_NODE
            elif target in nodes:
                to = nodes[target]
            else:
                to = missing.setdefault(target, f"missing_{len(missing)}")
            if (to, label) in drawn:
                continue
            drawn.add((to, label))
            arrow = f"-->|{_escape(label)}|" if label else "-->"
            lines.append(f"    {nodes[step.id]} {arrow} {to}")
    for target, node in missing.items():
        lines.append(f'    {node}[/"{_escape(f"not a step: {target}")}"/]')
    return "\n".join(lines) + "\n"


def condition_text(condition: Condition) -> str:
    """Return a condition in short form, such as `used = no` or `rating ≥ 4`."""
    step = condition.step
    if condition.skipped is not None:
        return f"{step} skipped" if condition.skipped else f"{step} answered"
    if condition.equals is not None:
        return f"{step} = {_value(condition.equals)}"
    if condition.any_of is not None:
        return f"{step} = {' or '.join(_value(v) for v in condition.any_of)}"
    if condition.includes is not None:
        return f"{step} includes {condition.includes}"
    if condition.at_least is not None:
        return f"{step} ≥ {_value(condition.at_least)}"
    return f"{step} ≤ {_value(condition.at_most)}"


def _labels(step: MessageStep | Question) -> list[str]:
    """Label each route in the order `targets` gives them; the default route has no label."""
    rules = step.next
    if not isinstance(rules, list):
        return [""]
    labels = [" and ".join(condition_text(c) for c in rule.when) for rule in rules]
    if not rules or rules[-1].when:
        labels.append("")
    return labels


def _node(flow: Flow, node: str, step: MessageStep | Question) -> str:
    text = " ".join(_say(flow, step.text).split())
    if len(text) > TEXT_LIMIT:
        text = text[: TEXT_LIMIT - 1].rsplit(" ", 1)[0] + "…"
    required = " · required" if isinstance(step, QuestionBase) and step.required else ""
    label = f"{_escape(f'{step.id} · {step.kind}{required}')}<br/>{_escape(text)}"
    if isinstance(step, MessageStep):
        return f'{node}("{label}")'
    return f'{node}["{label}"]'


def _node_id(position: int, step_id: str) -> str:
    # The position keeps ids unique (a-b and a_b both become a_b) and never the keyword `end`.
    return f"s{position}_{step_id.replace('-', '_')}"


def _escape(text: str) -> str:
    flat = " ".join(text.split())
    return "".join(c if c.isalnum() or c in _PLAIN else f"#{ord(c)};" for c in flat)


def _value(value: str | int | float | bool | None) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _say(flow: Flow, text: LocalText) -> str:
    return text_in(text, flow.default_language, flow.default_language)
