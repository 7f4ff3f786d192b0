"""The catalogue of everything Heard says outside conversation files, per language."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

from conversations.yaml_lines import YamlProblem, load_with_lines

BASE_LANGUAGE = "en"


def catalog_dir() -> Path:
    """Return the folder of catalogue files installed with Heard."""
    return Path(str(resources.files("conversations") / "catalog"))


def languages() -> list[str]:
    """Return the languages that have a catalogue file."""
    return sorted(path.stem for path in catalog_dir().glob("*.yaml"))


class Catalog:
    """Sentences by key in one language, falling back to English for missing keys."""

    def __init__(self, texts: dict[str, str], fallback: dict[str, str]) -> None:
        self._texts = texts
        self._fallback = fallback

    def __call__(self, key: str, **values: object) -> str:
        """Return the sentence for a key with its {names} filled in."""
        text = self._texts.get(key) or self._fallback[key]
        return text.format(**values) if values else text

    def keys(self) -> set[str]:
        """Return the keys this catalogue translates itself."""
        return set(self._texts)


@cache
def catalog(language: str) -> Catalog:
    """Return the catalogue for a language (English if there is no file for it)."""
    base = _read(BASE_LANGUAGE)
    texts = _read(language) if language in languages() else base
    return Catalog(texts, base)


def _read(language: str) -> dict[str, str]:
    path = catalog_dir() / f"{language}.yaml"
    try:
        # The loader conversations use: libyaml's speed, a repeated key refused with its line.
        data, _ = load_with_lines(path.read_text(encoding="utf-8"))
    except YamlProblem as problem:
        raise ValueError(f"{path}: {problem}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a catalogue must be a mapping of keys to sentences")
    return {str(key): str(value) for key, value in data.items()}
