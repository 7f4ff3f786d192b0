"""YAML with lines: the C parser when PyYAML has it, placing every problem on its line."""

import pytest
import yaml

from conversations import yaml_lines
from conversations.yaml_lines import YamlProblem, load_with_lines

TEXT = (
    "title: Caf\u00e9 \u2615 \u0645\u0631\u062d\u0628\u0627\n"
    "steps:\n"
    "  - id: a\n"
    "    note: \u00e9\u00e9\u00e9\n"
)


def test_yaml_lines_uses_the_c_parser_when_pyyaml_has_it():
    if not hasattr(yaml, "CSafeLoader"):
        pytest.skip("this PyYAML was built without libyaml")
    assert issubclass(yaml_lines._Loader, yaml.CSafeLoader)


def test_yaml_lines_gives_the_line_of_every_value():
    data, lines = load_with_lines(TEXT)
    assert data["steps"][0]["note"] == "\u00e9\u00e9\u00e9"
    assert lines[("title",)] == 1
    assert lines[("steps", 0, "id")] == 3
    assert lines[("steps", 0, "note")] == 4


@pytest.mark.parametrize("loader", ["c", "python"])
def test_yaml_lines_places_a_control_character_after_wide_characters(loader, monkeypatch):
    # libyaml counts a reader error's offset in bytes: accents and emoji before it must not
    # push the line it names further down.
    if loader == "python":
        monkeypatch.setattr(yaml_lines, "_SafeLoader", yaml.SafeLoader)
        monkeypatch.setattr(yaml_lines, "_Loader", _python_loader())
    elif not hasattr(yaml, "CSafeLoader"):
        pytest.skip("this PyYAML was built without libyaml")
    text = "\u2615" * 40 + ": x\n" + "\u00e9: y\n" * 3 + "note: \x00\nlast: z\n"
    with pytest.raises(YamlProblem) as raised:
        load_with_lines(text)
    assert raised.value.line == 5


def test_yaml_lines_keeps_yes_and_no_as_text():
    data, _ = load_with_lines("a: yes\nb: no\nc: on\nd: true\n")
    assert data == {"a": "yes", "b": "no", "c": "on", "d": True}


def _python_loader():
    class Loader(yaml.SafeLoader):
        pass

    Loader.yaml_implicit_resolvers = yaml_lines._Loader.yaml_implicit_resolvers
    return Loader
