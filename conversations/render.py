"""Turn engine effects into plain messages and buttons; no Telegram types here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from conversations.callbacks import (
    Action,
    AgeButton,
    ChoiceButton,
    ConsentButton,
    QuestionButton,
)
from conversations.catalog import Catalog, catalog
from conversations.events import (
    AlreadyDone,
    Ask,
    CheckIn,
    CheckInNudge,
    Completed,
    Effect,
    Forget,
    Note,
    NothingToGoBack,
    Paused,
    Recap,
    Record,
    Reprompt,
    Say,
    Selection,
    Settle,
    Stale,
    UrgentHelp,
)
from conversations.model import Flow as FlowModel
from conversations.model import (
    FreeTextStep,
    LocalText,
    MessageStep,
    MultipleChoiceStep,
    NumberStep,
    Question,
    ScaleStep,
    SingleChoiceStep,
    YesNoStep,
    text_in,
)
from conversations.routing import Value

SHOWN_ANSWER_LIMIT = 300
SCALE_ROW = 6


@dataclass(frozen=True)
class Button:
    """A button: what it says and the data it sends back."""

    label: str
    data: str


Keyboard = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True)
class Send:
    """Send a new message; a prompt is a question whose message is kept to edit later."""

    text: str
    keyboard: Keyboard = ()
    prompt: bool = False
    # The message this one answers (Telegram shows it quoted above), if any.
    reply_to: int | None = None


@dataclass(frozen=True)
class SettlePrompt:
    """Rewrite the current question's message with what happened, without buttons."""

    text: str


@dataclass(frozen=True)
class PromptButtons:
    """Replace the current question's buttons (none: remove them)."""

    keyboard: Keyboard


Outgoing = Send | SettlePrompt | PromptButtons


STAFF_HOURS = "on weekdays, 9am to 5pm"


def intro(
    flow: FlowModel, language: str, minimum_age: int, staff_hours: str = STAFF_HOURS
) -> list[Send]:
    """Return the welcome, what taking part means, and the age question with buttons."""
    words = catalog(language)
    buttons = tuple(
        (Button(words(key, age=minimum_age), AgeButton(flow.id, flow.version, ok).encode()),)
        for key, ok in (("button_old_enough", True), ("button_too_young", False))
    )
    question = Send(words("age_question", age=minimum_age), buttons)
    return [about(flow, language, staff_hours), question]


def about(flow: FlowModel, language: str, staff_hours: str = STAFF_HOURS) -> Send:
    """Return what taking part in a conversation means, before its consent question."""
    say = _Say(flow, language)
    words = catalog(language)
    return Send(
        "\n\n".join(
            [
                say(flow.title),
                say(flow.intro.who),
                say(flow.intro.duration),
                say(flow.intro.data_use),
                say(flow.intro.support),
                words("staff_hours_line", hours=staff_hours),
            ]
        )
    )


def consent_question(flow: FlowModel, language: str, item: int = 0) -> Send:
    """Return the consent question with its buttons (for an invitation, if `item` is given)."""
    words = catalog(language)
    buttons = tuple(
        (
            Button(
                words(key),
                ConsentButton(flow.id, flow.version, flow.consent.version, ok, item).encode(),
            ),
        )
        for key, ok in (("button_agree", True), ("button_decline", False))
    )
    return Send(_Say(flow, language)(flow.consent.text), buttons)


def contact_question(language: str, key: str = "contact_question") -> Send:
    """Ask whether the participant wants messages about future rounds."""
    words = catalog(language)
    yes = Button(words("button_contact_yes"), ChoiceButton("contact", "y").encode())
    no = Button(words("button_contact_no"), ChoiceButton("contact", "n").encode())
    return Send(words(key), ((yes, no),))


class Renderer:
    """Render one run's effects in the participant's language."""

    def __init__(
        self,
        flow: FlowModel,
        language: str,
        run_id: int,
        support: Callable[[bool], str] = lambda urgent_only: "",
        staff_hours: str = STAFF_HOURS,
    ) -> None:
        self.flow = flow
        self.language = language
        self.run_id = run_id
        # Support lines come from the host (a file the charity edits): urgent_only -> text.
        self.support = support
        self.staff_hours = staff_hours
        self.words: Catalog = catalog(language)
        self._say = _Say(flow, language)

    def render(self, effects: tuple[Effect, ...] | list[Effect]) -> list[Outgoing]:
        """Return the messages and edits for these effects, in order."""
        out: list[Outgoing] = []
        prompt_open = True
        for effect in effects:
            if isinstance(effect, Settle):
                out.append(SettlePrompt(self._settled(effect)))
                prompt_open = False
            elif isinstance(effect, Ask):
                if prompt_open:
                    out.append(PromptButtons(()))
                out.append(Send(self.question(effect), self.keyboard(effect), prompt=True))
                prompt_open = False
            elif isinstance(effect, CheckIn | CheckInNudge | UrgentHelp):
                out.append(self._check_in(effect))
            elif isinstance(effect, Selection):
                keyboard = self.keyboard_for(effect.step, effect.selected, effect.can_go_back)
                out.append(PromptButtons(keyboard))
            elif not isinstance(effect, Record | Forget):
                out.append(Send(self._line(effect)))
        return out

    def question(self, ask: Ask) -> str:
        """Return a question's message: progress, the question, any earlier answer, a hint."""
        step = self._question(ask.step)
        parts = [self.words("progress", number=ask.number, total=ask.total), self._say(step.text)]
        if ask.has_previous:
            if ask.previous is None:
                parts.append(self.words("previous_skipped"))
            else:
                answer = self.answer(step, ask.previous)
                parts.append(self.words("previous_answer", answer=answer))
        parts.append(self._hint(step))
        return "\n\n".join(parts)

    def keyboard(self, ask: Ask) -> Keyboard:
        """Return the buttons for a question."""
        return self.keyboard_for(ask.step, ask.selected, can_go_back=ask.number > 1)

    def keyboard_for(
        self, step_id: str, selected: tuple[str, ...] = (), can_go_back: bool = True
    ) -> Keyboard:
        """Return the buttons for a question with these options ticked."""
        step = self._question(step_id)
        index = self.flow.position(step_id)

        def button(label: str, action: Action, choice: str = "") -> Button:
            data = QuestionButton(self.run_id, self.flow.version, index, action, choice)
            return Button(label, data.encode())

        rows: list[tuple[Button, ...]] = []
        if isinstance(step, SingleChoiceStep):
            rows += [
                (button(self._say(o.label), "p", str(i)),) for i, o in enumerate(step.options)
            ]
        elif isinstance(step, MultipleChoiceStep):
            mark = self.words("selected_mark")
            for i, option in enumerate(step.options):
                label = self._say(option.label)
                ticked = mark + label if option.id in selected else label
                rows.append((button(ticked, "t", str(i)),))
            rows.append((button(self.words("button_done"), "d"),))
        elif isinstance(step, YesNoStep):
            rows.append(
                (
                    button(self.words("button_yes"), "p", "yes"),
                    button(self.words("button_no"), "p", "no"),
                )
            )
        elif isinstance(step, ScaleStep):
            points = [button(str(n), "p", str(n)) for n in range(step.min, step.max + 1)]
            rows += [tuple(points[i : i + SCALE_ROW]) for i in range(0, len(points), SCALE_ROW)]
        extra = []
        if self.flow.can_skip(step):
            extra.append(button(self.words("button_skip"), "s"))
        if can_go_back:
            extra.append(button(self.words("button_back"), "b"))
        if extra:
            rows.append(tuple(extra))
        return tuple(rows)

    def _check_in(self, effect: CheckIn | CheckInNudge | UrgentHelp) -> Send:
        words = self.words
        if isinstance(effect, UrgentHelp):
            text = words("urgent_now", lines=self.support(True), hours=self.staff_hours)
        elif isinstance(effect, CheckInNudge):
            text = words("check_in_nudge", hours=self.staff_hours)
        else:
            text = words("check_in", lines=self.support(False))
        # The buttons name this run, so a check-in from an older run goes stale.
        choices: tuple[tuple[str, Action], ...] = (
            ("button_safe", "k"),
            ("button_help_now", "h"),
            ("button_wait", "w"),
        )
        rows = tuple(
            (Button(words(key), QuestionButton(self.run_id, self.flow.version, 0, act).encode()),)
            for key, act in choices
        )
        return Send(text, rows)

    def answer(self, step: Question, value: Value) -> str:
        """Return an answer as the participant would read it."""
        if value is None:
            return self.words("skipped")
        if isinstance(step, SingleChoiceStep):
            return self._label(step, str(value))
        if isinstance(step, MultipleChoiceStep) and isinstance(value, list):
            return ", ".join(self._label(step, choice) for choice in value)
        if isinstance(step, YesNoStep):
            return self.words("answer_yes" if value is True else "answer_no")
        text = str(value)
        if len(text) > SHOWN_ANSWER_LIMIT:
            text = text[: SHOWN_ANSWER_LIMIT - 1] + "…"
        return text

    def _settled(self, settle: Settle) -> str:
        step = self._question(settle.step)
        if settle.how == "answered":
            footer = self.words("answered", answer=self.answer(step, settle.value))
        elif settle.how == "skipped":
            footer = self.words("skipped")
        elif settle.how == "back":
            footer = self.words("went_back")
        else:
            footer = self.words("paused_here")
        return f"{self._say(step.text)}\n\n{footer}"

    def _line(self, effect: Effect) -> str:
        words = self.words
        if isinstance(effect, Note):
            section = self.flow.section(effect.section)
            assert section is not None
            return f"{self._say(section.title)}\n\n{self._say(section.note or '')}"
        if isinstance(effect, Say):
            return self._say(self.flow.step(effect.step).text)
        if isinstance(effect, Reprompt):
            return self._reprompt(effect)
        if isinstance(effect, Recap):
            return words("recap", number=effect.number, total=effect.total)
        if isinstance(effect, Completed):
            return f"{self._say(self.flow.end)}\n\n{words('completed')}"
        simple = {
            Paused: "paused",
            AlreadyDone: "already_done",
            Stale: "stale",
            NothingToGoBack: "nothing_to_go_back",
        }
        return words(simple[type(effect)])

    def _reprompt(self, reprompt: Reprompt) -> str:
        if reprompt.reason == "too_long":
            return self.words("too_long", limit=_n(reprompt.limit), length=reprompt.length)
        if reprompt.reason == "out_of_range":
            if reprompt.limit is None or reprompt.low is None:
                return self.words("out_of_range_open")
            return self.words("out_of_range", limit=_n(reprompt.limit), low=_n(reprompt.low))
        if reprompt.reason == "too_many":
            return self.words("too_many", limit=_n(reprompt.limit))
        return self.words(reprompt.reason)

    def _hint(self, step: Question) -> str:
        words = self.words
        if isinstance(step, SingleChoiceStep):
            return words("hint_single")
        if isinstance(step, MultipleChoiceStep):
            return words("hint_multi")
        if isinstance(step, YesNoStep):
            return words("hint_yes_no")
        if isinstance(step, ScaleStep):
            return words(
                "hint_scale",
                min=step.min,
                max=step.max,
                min_label=self._say(step.min_label),
                max_label=self._say(step.max_label),
            )
        if isinstance(step, FreeTextStep):
            return words("hint_text", limit=step.max_length)
        assert isinstance(step, NumberStep)
        if step.min is not None and step.max is not None:
            return words("hint_number_range", min=_n(step.min), max=_n(step.max))
        if step.min is not None:
            return words("hint_number_min", min=_n(step.min))
        if step.max is not None:
            return words("hint_number_max", max=_n(step.max))
        return words("hint_number")

    def _question(self, step_id: str) -> Question:
        step = self.flow.step(step_id)
        assert not isinstance(step, MessageStep)
        return step

    def _label(self, step: SingleChoiceStep | MultipleChoiceStep, choice: str) -> str:
        for option in step.options:
            if option.id == choice:
                return self._say(option.label)
        return choice


class _Say:
    """Pick a flow text in one language."""

    def __init__(self, flow: FlowModel, language: str) -> None:
        self.language = language
        self.fallback = flow.default_language

    def __call__(self, text: LocalText) -> str:
        return text_in(text, self.language, self.fallback)


def _n(number: float | None) -> str:
    if number is None:
        return ""
    return str(int(number)) if float(number).is_integer() else str(number)
