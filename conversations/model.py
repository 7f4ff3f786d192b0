"""The conversation file format: frozen pydantic models of a flow."""

from __future__ import annotations

from typing import Annotated, Any, Literal, cast

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    model_validator,
)

StepId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]
Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")]
# A text is either one string (in the flow's first language) or a string per language.
LocalText = str | dict[Language, Annotated[str, StringConstraints(min_length=1)]]


class Model(BaseModel):
    """Base for every flow-file model: unknown keys are errors, values never change."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Option(Model):
    """One answer a participant can choose."""

    id: StepId
    label: LocalText
    exclusive: bool = False


class Condition(Model):
    """A test on one earlier answer; exactly one test is given."""

    step: StepId
    equals: str | int | float | bool | None = None
    any_of: list[str | int] | None = None
    includes: str | None = None
    at_least: float | None = None
    at_most: float | None = None
    skipped: bool | None = None

    @model_validator(mode="after")
    def _one_test(self) -> Condition:
        tests = [
            name
            for name in ("equals", "any_of", "includes", "at_least", "at_most", "skipped")
            if getattr(self, name) is not None
        ]
        if len(tests) != 1:
            raise ValueError(
                "a condition needs exactly one of equals, any_of, includes, at_least, "
                f"at_most, skipped (found {', '.join(tests) or 'none'})"
            )
        return self


class Rule(Model):
    """Go to a step when every condition holds; a rule without `when` always applies."""

    when: list[Condition] = Field(default_factory=list)
    goto: str


class StepBase(Model):
    """What every step has: an id, its text, an optional section and where to go next."""

    id: StepId
    text: LocalText
    section: StepId | None = None
    next: str | list[Rule] | None = None


class QuestionBase(StepBase):
    """A step that waits for an answer."""

    required: bool = False
    equality: bool = False


class MessageStep(StepBase):
    """A message with no answer: shown, then the flow moves on."""

    kind: Literal["message"]


class FreeTextStep(QuestionBase):
    """A typed answer up to a length limit."""

    kind: Literal["free_text"]
    max_length: int = Field(default=1000, ge=1, le=4000)


class SingleChoiceStep(QuestionBase):
    """Pick one option."""

    kind: Literal["single_choice"]
    options: list[Option] = Field(min_length=2, max_length=12)


class MultipleChoiceStep(QuestionBase):
    """Pick any number of options, then Done."""

    kind: Literal["multiple_choice"]
    options: list[Option] = Field(min_length=2, max_length=12)
    max_choices: int | None = Field(default=None, ge=1)


class ScaleStep(QuestionBase):
    """A whole number on a short scale, with labels for its ends."""

    kind: Literal["scale"]
    min: int = Field(default=1, ge=-100, le=100)
    max: int = Field(default=5, ge=-100, le=100)
    min_label: LocalText
    max_label: LocalText

    @model_validator(mode="after")
    def _sensible_range(self) -> ScaleStep:
        if not 1 <= self.max - self.min <= 10:
            raise ValueError("a scale needs from 2 to 11 points (for example min 1, max 5)")
        return self


class YesNoStep(QuestionBase):
    """Yes or no."""

    kind: Literal["yes_no"]


class NumberStep(QuestionBase):
    """A typed number within bounds."""

    kind: Literal["number"]
    min: float | None = None
    max: float | None = None
    whole: bool = True

    @model_validator(mode="after")
    def _ordered_bounds(self) -> NumberStep:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is greater than max")
        return self


Question = (
    FreeTextStep | SingleChoiceStep | MultipleChoiceStep | ScaleStep | YesNoStep | NumberStep
)
Step = Annotated[MessageStep | Question, Field(discriminator="kind")]
STEP_KINDS = (
    "message",
    "free_text",
    "single_choice",
    "multiple_choice",
    "scale",
    "yes_no",
    "number",
)
ChoiceStep = SingleChoiceStep | MultipleChoiceStep


class Section(Model):
    """A group of steps with a short, calm note shown before its first question."""

    id: StepId
    title: LocalText
    note: LocalText | None = None


class Intro(Model):
    """What a person reads before agreeing to take part."""

    who: LocalText
    duration: LocalText
    data_use: LocalText
    support: LocalText


class Consent(Model):
    """The consent question; its version changes whenever its meaning does."""

    version: int = Field(ge=1, le=9_999)
    text: LocalText


class FollowUp(Model):
    """Another conversation offered some days after this one is finished."""

    flow: StepId
    after_days: float = Field(gt=0, le=366)


class Flow(Model):
    """One scripted conversation, as written in its file."""

    id: StepId
    version: int = Field(ge=1, le=99_999)
    title: LocalText
    languages: list[Language] = Field(default_factory=lambda: ["en"], min_length=1)
    allow_skip: bool = True
    intro: Intro
    consent: Consent
    sections: list[Section] = Field(default_factory=list)
    steps: list[Step] = Field(min_length=1, max_length=500)
    end: LocalText
    follow_ups: list[FollowUp] = Field(default_factory=list, max_length=5)

    _steps_by_id: dict[str, tuple[int, MessageStep | Question]] = PrivateAttr(default_factory=dict)

    @property
    def default_language(self) -> str:
        """Return the language used when a text or a participant's language is missing."""
        return self.languages[0]

    def step(self, step_id: str) -> MessageStep | Question:
        """Return the step with this id."""
        return self._index()[step_id][1]

    def position(self, step_id: str) -> int:
        """Return the step's place in the file, counting from 0."""
        return self._index()[step_id][0]

    def has_step(self, step_id: str) -> bool:
        """Say whether the flow has a step with this id."""
        return step_id in self._index()

    def section(self, section_id: str) -> Section | None:
        """Return the section with this id, if any."""
        return next((s for s in self.sections if s.id == section_id), None)

    def can_skip(self, step: MessageStep | Question) -> bool:
        """Say whether a participant may skip this step."""
        return self.allow_skip and isinstance(step, QuestionBase) and not step.required

    def _index(self) -> dict[str, tuple[int, MessageStep | Question]]:
        # Read past pydantic's __getattr__, which serves private attributes in about 2 µs: the
        # engine asks for steps dozens of times an answer. Set in model_post_init.
        private = cast(dict[str, Any], self.__pydantic_private__)
        return cast(dict[str, tuple[int, MessageStep | Question]], private["_steps_by_id"])

    def model_post_init(self, context: Any, /) -> None:
        """Index the steps by id once (the first of a duplicated id wins; checks report it)."""
        for position, step in enumerate(self.steps):
            self._steps_by_id.setdefault(step.id, (position, step))


END = "end"


def text_in(text: LocalText, language: str, fallback: str) -> str:
    """Return the text in a language, falling back to the flow's first language."""
    if isinstance(text, str):
        return text
    return text.get(language) or text.get(fallback) or next(iter(text.values()))
