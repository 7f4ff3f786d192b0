"""The catalogue: every sentence the renderer asks for exists, and translations fit English."""

from __future__ import annotations

import inspect
import string
from pathlib import Path
from typing import get_args

import pytest
import yaml

from conversations import render
from conversations.catalog import BASE_LANGUAGE, Catalog, catalog, catalog_dir, languages
from conversations.events import RepromptReason
from tests.support.catalog_keys import keys_asked_for

CATALOG_FILES = sorted(catalog_dir().glob("*.yaml"))


def read(path: Path) -> dict[str, str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), path
    return {str(key): str(value) for key, value in data.items()}


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def keys_used_by_render() -> set[str]:
    """Return every catalogue key render.py names: words("key"), `a if b else c`, dicts."""
    keys = keys_asked_for(inspect.getsource(render), dict_values=True)
    # self.words(reprompt.reason) names its key at run time: every reason is a key.
    keys.update(get_args(RepromptReason))
    return keys


def test_catalog_has_every_key_render_uses() -> None:
    used = keys_used_by_render()
    english = read(catalog_dir() / f"{BASE_LANGUAGE}.yaml")

    assert len(used) > 30  # the scan found the calls
    assert sorted(used - set(english)) == []


def test_catalog_english_is_a_flat_mapping_of_sentences() -> None:
    data = yaml.safe_load((catalog_dir() / "en.yaml").read_text(encoding="utf-8"))

    assert all(isinstance(k, str) and isinstance(v, str) and v for k, v in data.items())


@pytest.mark.parametrize("path", CATALOG_FILES, ids=lambda path: path.stem)
def test_catalog_file_has_only_english_keys_with_the_same_placeholders(path: Path) -> None:
    english = read(catalog_dir() / f"{BASE_LANGUAGE}.yaml")
    texts = read(path)

    assert sorted(set(texts) - set(english)) == []
    for key, text in texts.items():
        assert placeholders(text) == placeholders(english[key]), f"{path.name}: {key}"


def test_catalog_languages_lists_the_files() -> None:
    assert BASE_LANGUAGE in languages()
    assert languages() == [path.stem for path in CATALOG_FILES]


def test_catalog_for_an_unknown_language_is_english() -> None:
    assert catalog("xx")("button_skip") == catalog("en")("button_skip")


def test_catalog_fills_in_names() -> None:
    assert catalog("en")("progress", number=2, total=7) == "Question 2 of 7"


def test_catalog_falls_back_to_english_for_a_missing_key() -> None:
    welsh = Catalog({"button_skip": "Neidio"}, {"button_skip": "Skip", "button_back": "Go back"})

    assert welsh("button_skip") == "Neidio"
    assert welsh("button_back") == "Go back"
    assert welsh.keys() == {"button_skip"}


def test_catalog_unknown_key_is_an_error() -> None:
    with pytest.raises(KeyError):
        catalog("en")("no_such_key")


def test_catalog_with_a_repeated_key_is_refused_with_its_line(tmp_path, monkeypatch) -> None:
    # A repeated key would silently replace the first sentence with the second.
    (tmp_path / "en.yaml").write_text('hello: "Hi"\nbye: "Bye"\nhello: "Hello"\n')
    monkeypatch.setattr("conversations.catalog.catalog_dir", lambda: tmp_path)
    catalog.cache_clear()
    try:
        with pytest.raises(ValueError, match=r"en\.yaml: line 3: the key 'hello' appears twice"):
            catalog("en")
    finally:
        catalog.cache_clear()


def test_catalog_keeps_yes_and_no_as_words(tmp_path, monkeypatch) -> None:
    (tmp_path / "en.yaml").write_text("button_yes: Yes\nbutton_no: no\n")
    monkeypatch.setattr("conversations.catalog.catalog_dir", lambda: tmp_path)
    catalog.cache_clear()
    try:
        assert catalog("en")("button_yes") == "Yes"
        assert catalog("en")("button_no") == "no"
    finally:
        catalog.cache_clear()
