"""RoundPlanner: every check on a new round, closing, feedback, and the audit log."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.flows import FlowLibrary
from bot.rounds.planner import MAX_FEEDBACK, MAX_INVITATION, MAX_TITLE, PlanError, RoundPlanner
from storage.repository import ConsentGiven
from storage.rounds import CONTACTABLE, took_part_in
from storage.sqlite import SQLiteRepository

LONDON = ZoneInfo("Europe/London")
START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # Monday 2 March 2026, 10:00 GMT


@pytest.fixture
async def repository(database):
    repo = await SQLiteRepository.open(database)
    yield repo
    await repo.close()


@pytest.fixture
async def planner(repository, flows_dir, clock):  # clock: the FixedClock in conftest
    flows = FlowLibrary.load(flows_dir, repository)
    await flows.register(clock.now())
    return RoundPlanner(repository, flows, clock, LONDON)


async def create(planner, **overrides):
    arguments = {
        "flow_id": "sample",
        "opens": "tomorrow 10:00",
        "closes": "2026-03-10 17:00",
        "actor": "cli",
    }
    return await planner.create(**(arguments | overrides))


async def contactable(repository, user_id):
    who = await repository.enrol(
        user_id=user_id,
        chat_id=user_id,
        language="en",
        consent=ConsentGiven("sample", 1, 1),
        now=START,
    )
    await repository.set_contact(who.code, True, START)
    return who.code


async def audit(repository):
    return [(e.actor, e.action, e.detail) for e in reversed(await repository.audit_entries())]


async def test_planner_create_stores_the_round_and_audits_it(planner, repository, clock):
    assert clock.now() == START
    made = await create(planner, reminders="2", audience="all")

    assert made.id == 1
    assert made.title == "Sample consultation"  # the conversation's own title
    assert (made.flow_id, made.status, made.created_by) == ("sample", "scheduled", "cli")
    assert made.opens_at == datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
    assert made.closes_at == datetime(2026, 3, 10, 17, 0, tzinfo=UTC)
    assert (made.reminders, made.reminder_days, made.audience) == (2, 3.0, CONTACTABLE)
    assert made.invitation is None
    assert await repository.round(made.id) == made
    assert await audit(repository) == [
        (
            "cli",
            "round created",
            "R1 'Sample consultation' (sample) opens 2026-03-03T10:00:00+00:00 "
            "closes 2026-03-10T17:00:00+00:00, audience contactable, 2 reminder(s)",
        )
    ]


async def test_planner_opening_now_starts_at_the_present(planner):
    made = await create(planner, opens="now", closes="tomorrow")
    assert made.opens_at == START
    assert made.closes_at == datetime(2026, 3, 3, 10, 0, tzinfo=UTC)


async def test_planner_unknown_flow_names_the_known_ones(planner, repository):
    with pytest.raises(
        PlanError, match=r"^there is no conversation 'nope' \(there are: sample\)$"
    ):
        await create(planner, flow_id=" nope ")
    assert await repository.rounds() == []
    assert await audit(repository) == []


async def test_planner_close_must_come_after_the_open(planner, repository):
    expected = (
        r"^the round must close after it opens \(Tue 3 Mar 2026, 10:00\); "
        r"Mon 2 Mar 2026, 18:00 is not after that$"
    )
    with pytest.raises(PlanError, match=expected):
        await create(planner, closes="today 18:00")
    with pytest.raises(PlanError, match="must close after it opens"):
        await create(planner, closes="tomorrow 10:00")  # the same instant
    assert await repository.rounds() == []


async def test_planner_refuses_an_opening_time_already_past(planner, clock):
    with pytest.raises(PlanError, match=r'^Sun 1 Mar 2026, 10:00 has already passed; use "now"'):
        await create(planner, opens="2026-03-01 10:00")
    with pytest.raises(PlanError, match="has already passed"):
        await create(planner, opens="today 09:59")
    clock.advance(hours=1)
    with pytest.raises(PlanError, match="has already passed"):
        await create(planner, opens="today 10:30")


async def test_planner_bad_times_say_what_was_expected(planner):
    with pytest.raises(PlanError, match=r"'next week' is not a date and time; expected a date"):
        await create(planner, opens="next week")
    with pytest.raises(PlanError, match=r"'31/03/2026' is not a date and time"):
        await create(planner, closes="31/03/2026")


@pytest.mark.parametrize(("value", "expected"), [("0", 0), ("1", 1), (" 2 ", 2), (2, 2)])
async def test_planner_reminders_from_none_to_two(planner, value, expected):
    assert planner.reminders(value) == expected


@pytest.mark.parametrize(
    ("value", "shown"), [("3", "3"), ("-1", "-1"), ("one", "one"), ("", "nothing"), (7, "7")]
)
async def test_planner_refuses_other_reminder_counts(planner, repository, value, shown):
    with pytest.raises(PlanError, match=rf"^reminders can be 0, 1 or 2 \(got {shown}\)$"):
        await create(planner, reminders=value)
    assert await repository.rounds() == []


async def test_planner_title_is_tidied_and_limited(planner):
    flow = planner.flow("sample")
    assert planner.title("  Spring \n  check-in ", flow) == "Spring check-in"
    assert planner.title("   ", flow) == "Sample consultation"
    assert planner.title("x" * MAX_TITLE, flow) == "x" * MAX_TITLE
    with pytest.raises(PlanError, match=r"^a title can be up to 100 characters \(this is 101\)$"):
        await create(planner, title="x" * (MAX_TITLE + 1))


async def test_planner_audience_is_everyone_or_an_earlier_round_that_exists(planner, repository):
    for text in ("", "all", "Everyone", "contactable"):
        assert await planner.audience(text) == CONTACTABLE
    with pytest.raises(
        PlanError, match=r"^there is no round 'round:1' to take the audience from$"
    ):
        await create(planner, audience="round:1")
    assert await repository.rounds() == []

    earlier = await create(planner)
    for text in ("round:1", "round 1", "Round #1", "1"):
        assert await planner.audience(text) == took_part_in(earlier.id)
    later = await create(planner, audience="round:1")
    assert later.audience == "round:1"
    for text in ("round:9", "round:x", "friends"):
        with pytest.raises(PlanError, match="to take the audience from"):
            await planner.audience(text)


async def test_planner_invitation_text_is_optional_and_limited(planner):
    assert planner.invitation(None) is None
    assert planner.invitation("  \n ") is None
    assert planner.invitation("  Come and tell us.  ") == "Come and tell us."
    with pytest.raises(PlanError, match=r"^an invitation can be up to 3000 characters"):
        planner.invitation("x" * (MAX_INVITATION + 1))
    made = await create(planner, invitation="Come and tell us.")
    assert made.invitation == "Come and tell us."


async def test_planner_overview_counts_eligible_people_before_opening(planner, repository):
    await contactable(repository, 1)
    await contactable(repository, 2)
    scheduled = await create(planner)
    [view] = await planner.overview()
    assert view.round == scheduled
    assert (view.figures.eligible, view.figures.invited) == (2, 0)
    with pytest.raises(PlanError, match=r"^there is no round R9$"):
        await planner.view(9)


async def test_planner_overview_shows_live_figures_once_open(planner, repository, clock):
    for user_id in (1, 2, 3):
        await contactable(repository, user_id)
    made = await create(planner, opens="now")
    await repository.open_due_rounds(clock.now())
    [item, *_] = await repository.claim_due(clock.now(), clock.now() + timedelta(minutes=1), 10)
    await repository.mark_sent(item.id, clock.now())
    await contactable(repository, 4)  # joined after the round opened: not invited

    view = await planner.view(made.id)

    assert view.round.status == "open"
    assert (view.figures.eligible, view.figures.invited, view.figures.waiting) == (3, 1, 2)


async def test_planner_end_closes_or_cancels_once_and_audits(planner, repository, clock):
    open_round = await create(planner, opens="now")
    await repository.open_due_rounds(clock.now())
    scheduled = await create(planner, title="Later")
    clock.advance(hours=1)

    closed = await planner.end(open_round.id, "staff:7")
    cancelled = await planner.end(scheduled.id, "cli", cancel=True)

    assert (closed.status, closed.closed_at) == ("closed", clock.now())
    assert cancelled.status == "cancelled"
    with pytest.raises(PlanError, match=r"^round R1 is already closed$"):
        await planner.end(open_round.id, "cli", cancel=True)
    with pytest.raises(PlanError, match=r"^round R2 is already cancelled$"):
        await planner.end(scheduled.id, "cli")
    with pytest.raises(PlanError, match=r"^there is no round R3$"):
        await planner.end(3, "cli")
    assert (await audit(repository))[-2:] == [
        ("staff:7", "round closed", "R1 'Sample consultation'"),
        ("cli", "round cancelled", "R2 'Later'"),
    ]


async def test_planner_feedback_is_refused_for_rounds_not_yet_run(planner, repository):
    scheduled = await create(planner)
    with pytest.raises(PlanError, match=r"^round R1 is scheduled: nobody has taken part in it$"):
        await planner.feedback_reach(scheduled.id)
    await planner.end(scheduled.id, "cli", cancel=True)
    with pytest.raises(PlanError, match=r"^round R1 is cancelled: nobody has taken part in it$"):
        await planner.send_feedback(scheduled.id, "We listened.", "cli")
    with pytest.raises(PlanError, match=r"^there is no round R5$"):
        await planner.feedback_reach(5)
    assert await repository.feedback_audience(scheduled.id) == 0
    assert [action for _, action, _ in await audit(repository)] == [
        "round created",
        "round cancelled",
    ]


async def test_planner_feedback_that_would_reach_nobody_is_refused_and_kept_unsent(
    planner, repository, clock
):
    await contactable(repository, 1)  # invited, never started
    made = await create(planner, opens="now")
    await repository.open_due_rounds(clock.now())
    with pytest.raises(PlanError, match=r"^nobody would receive it: no one who took part in"):
        await planner.send_feedback(made.id, "We listened.", "cli")
    assert (await repository.round(made.id)).feedback_at is None


async def test_planner_feedback_reaches_those_who_took_part_and_is_sent_once(
    planner, repository, clock
):
    took_part = await contactable(repository, 1)
    await contactable(repository, 2)  # invited, never started
    made = await create(planner, opens="now")
    await repository.open_due_rounds(clock.now())
    await repository.start_run(took_part, "sample", 1, "{}", clock.now(), round_id=made.id)
    await planner.end(made.id, "cli")
    clock.advance(days=10)

    found, reach = await planner.feedback_reach(made.id)
    assert (found.id, reach) == (made.id, 1)
    assert await planner.send_feedback(made.id, "  You said, we did.  ", "staff:7") == 1

    stored = await repository.round(made.id)
    assert (stored.feedback, stored.feedback_at) == ("You said, we did.", clock.now())
    assert (await audit(repository))[-1] == ("staff:7", "feedback sent", "R1 to 1 participant(s)")
    with pytest.raises(PlanError, match=r"^feedback for round R1 was already sent on Thu 12 Mar"):
        await planner.feedback_reach(made.id)
    with pytest.raises(PlanError, match="was already sent"):
        await planner.send_feedback(made.id, "Again.", "cli")
    assert [a for _, a, _ in await audit(repository)].count("feedback sent") == 1


async def test_planner_feedback_text_must_be_something_and_not_too_long(
    planner, repository, clock
):
    made = await create(planner, opens="now")
    await repository.open_due_rounds(clock.now())
    with pytest.raises(PlanError, match=r"^the feedback message is empty$"):
        await planner.send_feedback(made.id, " \n ", "cli")
    with pytest.raises(
        PlanError, match=r"^feedback can be up to 3500 characters \(this is 3501\)$"
    ):
        await planner.send_feedback(made.id, "x" * (MAX_FEEDBACK + 1), "cli")
    assert (await repository.round(made.id)).feedback_at is None
    assert planner.feedback_text("x" * MAX_FEEDBACK) == "x" * MAX_FEEDBACK
