"""The composition root: read settings once, build every service, run until told to stop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from telegram import Update
from telegram.error import InvalidToken, TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ContextTypes

from bot.access import Access, participant_commands
from bot.admin_notice import AdminNotice
from bot.api_client import HeardRequest, TokenWatch, refusal_line, until_stopped
from bot.backlog import FloodGuard
from bot.backup_schedule import ScheduledBackups
from bot.chat_locks import ChatLocks
from bot.clock import Clock, SystemClock
from bot.data_rights import DataRights
from bot.dispatch.pacing import SendPacer
from bot.exports.telegram import ExportHandlers
from bot.flows import FlowLibrary
from bot.handlers import Handlers
from bot.instance_lock import InstanceLock, InstanceLocked
from bot.journey import Journey
from bot.processor import ChatOrderedProcessor
from bot.purge_guard import PurgeGuard
from bot.reports.telegram import ReportHandlers
from bot.rounds.coordinator import CoordinatorHandlers
from bot.rounds.dispatcher import Dispatcher
from bot.rounds.messages import OutboxMessages
from bot.rounds.planner import RoundPlanner
from bot.safeguarding.alerts import Alerts
from bot.safeguarding.destination import check_alert_chat
from bot.safeguarding.recipients import Recipients
from bot.safeguarding.review import ReviewHandlers
from bot.safeguarding.risk_model import RiskModel, RiskModelError
from bot.safeguarding.screening import PhraseList, PhraseListError, Screener
from bot.safeguarding.unstored import FlagSpool
from bot.safeguarding.watch import RiskWatch
from bot.sender import TelegramSender
from bot.settings import Settings, SettingsError
from bot.staff import StaffHandlers
from bot.staff_codes import StaffCodeError, StaffCodes
from bot.startup_checks import clock_problem, database_damage
from bot.support import SupportError, SupportFile, load_support, review_warning
from bot.updates import allowed_updates
from conversations.catalog import catalog
from conversations.loader import shipped_flows_dir
from storage.repository import StorageUnavailable
from storage.sqlite import SQLiteRepository

log = logging.getLogger("heard")
REDELIVERY_SECONDS = 30.0
DISPATCH_SECONDS = 5.0
PURGE_SECONDS = 24 * 60 * 60.0
PURGE_FIRST_SECONDS = 60.0


class StartupError(Exception):
    """Heard cannot start, or cannot go on; the message says why in one line."""


def spool_path(database: Path) -> Path:
    """Return where flags wait while the database refuses writes: beside the database."""
    return database.with_name(database.name + ".spool")


def heard_version() -> str:
    """Return the installed version of Heard."""
    try:
        return version("heard")
    except PackageNotFoundError:
        return "unknown"


def build_application(
    settings: Settings, processor: ChatOrderedProcessor, watch: TokenWatch
) -> Application:  # type: ignore[type-arg]
    """Build the python-telegram-bot application with our ordering and rate limits."""
    api = settings.telegram_api_url
    # Every call is held to Telegram's overall limit (more only for a higher HEARD_SEND_RATE);
    # proactive sends are paced below it by the dispatcher's own pacer.
    overall = max(30.0, settings.heard_send_rate)
    file_api = api[: -len("/bot")] + "/file/bot" if api.endswith("/bot") else api + "/file"
    return (
        ApplicationBuilder()
        .token(settings.require_token())
        .base_url(api)
        .base_file_url(file_api)
        .request(HeardRequest(watch, connection_pool_size=256))
        # A dropped long poll can leave a pool of one stuck ("Pool timeout") at shutdown.
        .get_updates_request(HeardRequest(watch, connection_pool_size=4))
        .rate_limiter(AIORateLimiter(overall_max_rate=overall, max_retries=3))
        .concurrent_updates(processor)
        .build()
    )


async def serve(
    settings: Settings,
    *,
    stop: asyncio.Event,
    clock: Clock | None = None,
    on_processed: Callable[[object], None] | None = None,
    redelivery_seconds: float = REDELIVERY_SECONDS,
    dispatch_seconds: float = DISPATCH_SECONDS,
    screener: Screener | None = None,
    purge_first_seconds: float = PURGE_FIRST_SECONDS,
) -> None:
    """Run the bot with long polling until `stop` is set.

    `screener` gives the verdict on what people write; by default, the one built from
    HEARD_RISK_PHRASES (a test gives its own, to have concerns where it wants them).
    """
    clock = clock or SystemClock()
    folder = settings.heard_conversations
    lock = _instance_lock(settings.heard_database)
    try:
        repository = await _checked_database(settings.heard_database, clock)
    except StartupError:
        lock.release()
        raise
    except Exception as error:
        lock.release()
        raise StartupError(
            f"HEARD_DATABASE: cannot open {settings.heard_database}: {error}"
        ) from None
    try:
        support = _support(settings, clock)
        phrases = _phrases(settings)
        library = FlowLibrary.load(folder, repository)
        if library.latest(settings.heard_default_flow) is None:
            known = ", ".join(sorted(library.current)) or "none"
            raise SettingsError(
                f"HEARD_DEFAULT_FLOW is '{settings.heard_default_flow}', but no conversation "
                f"has that id (found: {known})"
            )
        await library.register(clock.now())
        locks = ChatLocks()
        processor = ChatOrderedProcessor(locks, on_processed=on_processed)
        token = TokenWatch()
        app = build_application(settings, processor, token)
        sender = TelegramSender(app.bot)
        watch = RiskWatch(screener or _screener(phrases))
        recipients = Recipients(
            sender, repository, clock, settings.heard_safeguarding_chat, settings.heard_admins
        )
        alerts = Alerts(
            repository,
            library,
            sender,
            recipients,
            FlagSpool(spool_path(settings.heard_database)),
            clock,
            timedelta(hours=settings.heard_flag_reminder_hours),
        )
        journey = Journey(
            repository,
            library,
            sender,
            clock,
            settings.heard_default_flow,
            support,
            watch,
            alerts,
            settings.heard_minimum_age,
            settings.heard_staff_hours,
        )
        # Past a chat's backlog limit, messages are kept and the person asked once to wait.
        guard = FloodGuard(repository, sender, clock, watch.check)
        processor.on_backlog, processor.on_drained = guard.absorb, guard.drained
        access = Access(repository, settings.heard_admins, clock, _staff_codes(settings))
        planner = RoundPlanner(repository, library, clock, settings.zone)
        # Order matters: privileged commands first, then the participant's.
        StaffHandlers(access, journey).install(app)
        ReviewHandlers(access, journey).install(app)
        ExportHandlers(access, journey, settings.heard_database).install(app)
        ReportHandlers(access, journey, settings.heard_database, settings.zone).install(app)
        CoordinatorHandlers(access, journey, planner).install(app)
        rights = DataRights(repository, library, journey.sender, clock, support)
        quiet = frozenset(c for c in [settings.heard_safeguarding_chat] if c is not None)
        Handlers(journey, access, rights, quiet).install(app)
        app.add_error_handler(_report_error)
        dispatcher = Dispatcher(
            repository,
            OutboxMessages(repository, library),
            sender,
            locks,
            clock,
            settings.zone,
            settings.quiet_hours,
            SendPacer(settings.heard_send_rate, per_chat_interval=1.0),
            dispatch_seconds,
        )
        timers = Timers(redelivery_seconds, dispatch_seconds, purge_first_seconds)
        notice = AdminNotice(sender, settings.heard_admins)
        purges = PurgeGuard(repository, settings, clock, notice)
        backups = _backups(settings, repository, clock, notice)
        await _run(
            app, settings, journey, access, locks, stop, dispatcher, timers, purges, backups, token
        )
    finally:
        await repository.close()
        lock.release()


async def _run(
    app: Application,  # type: ignore[type-arg]
    settings: Settings,
    journey: Journey,
    access: Access,
    locks: ChatLocks,
    stop: asyncio.Event,
    dispatcher: Dispatcher,
    timers: Timers,
    purges: PurgeGuard,
    backups: ScheduledBackups | None,
    token: TokenWatch,
) -> None:
    try:
        await app.initialize()
    except InvalidToken as error:
        raise StartupError(refusal_line(error)) from None
    except TelegramError as error:
        raise StartupError(
            f"cannot reach the Bot API at TELEGRAM_API_URL ({settings.telegram_api_url}): {error}"
        ) from None
    try:
        # One clear line if alerts have nowhere to go; they then go privately to staff.
        destination = await check_alert_chat(app.bot, settings.heard_safeguarding_chat)
        if destination.problem is not None and destination.checked:
            journey.alerts.recipients.chat_unusable(destination.problem)
        elif destination.problem is not None:
            log.warning("%s", destination.problem)
        await app.bot.set_my_commands(participant_commands())
        await access.refresh_all_menus(app.bot)
        assert app.updater is not None
        await app.updater.start_polling(allowed_updates=allowed_updates(app))
        await app.start()
        log.info(
            "Heard %s started: database %s, conversations %s",
            heard_version(),
            settings.heard_database,
            settings.heard_conversations or shipped_flows_dir(),
        )

        async def redeliver(context: ContextTypes.DEFAULT_TYPE) -> None:
            await redeliver_pending(journey, locks)
            await journey.alerts.sweep()

        # Alerts waiting from before (a crash, a full disk) go out at once, whatever else fails.
        journey.alerts.kick()
        # Whatever was saved but not shown before a crash goes out now, then on a timer.
        await redeliver_pending(journey, locks)
        assert app.job_queue is not None
        app.job_queue.run_repeating(redeliver, interval=timers.redelivery, name="redeliver")

        # No send can be in flight at start-up: claims left by a process that died are free.
        recovered = await journey.repository.expire_claims(journey.clock.now())
        if recovered:
            log.info("%d scheduled send(s) interrupted by a stop will be retried", recovered)

        async def dispatch(context: ContextTypes.DEFAULT_TYPE) -> None:
            # Each tick schedules the next when it ends, so two never overlap; straight away
            # while sends are still due, else after the interval.
            more = False
            try:
                more = await dispatcher.tick()
            finally:
                if not stop.is_set() and app.job_queue is not None:
                    wait = 0.0 if more else timers.dispatch
                    app.job_queue.run_once(dispatch, when=wait, name="dispatch")

        app.job_queue.run_once(dispatch, when=0.0, name="dispatch")

        async def purge(context: ContextTypes.DEFAULT_TYPE) -> None:
            await purges.daily()

        app.job_queue.run_repeating(
            purge, interval=PURGE_SECONDS, first=timers.purge_first, name="purge"
        )
        if backups is not None:

            async def backup(context: ContextTypes.DEFAULT_TYPE) -> None:
                await backups.take()

            app.job_queue.run_daily(backup, time=settings.backup_time, name="backup")
            log.info(
                "a backup every day at %s (%s) into %s, keeping the newest %d",
                settings.heard_backup_time,
                settings.heard_timezone,
                backups.folder,
                backups.keep,
            )
        await until_stopped(stop, token)
        log.info("Heard is stopping")
        await app.updater.stop()
        await app.stop()
        if token.refusal is not None:
            raise StartupError(refusal_line(token.refusal))
    except InvalidToken as error:
        # Refused before polling began (between the first call and the last of start-up).
        raise StartupError(refusal_line(error)) from None
    finally:
        await journey.alerts.close()
        await app.shutdown()


@dataclass(frozen=True)
class Timers:
    """How often the repeating jobs run, in seconds."""

    redelivery: float
    dispatch: float
    purge_first: float


def _phrases(settings: Settings) -> PhraseList:
    """Load the risk phrases once; a broken file stops start-up, naming it."""
    try:
        if settings.heard_risk_phrases is None:
            return PhraseList.shipped()
        return PhraseList.load(settings.heard_risk_phrases)
    except PhraseListError as error:
        raise StartupError(f"HEARD_RISK_PHRASES: {error}") from None


def _instance_lock(database: Path) -> InstanceLock:
    """Take the database's one-bot lock; another bot holding it stops start-up, naming it."""
    try:
        return InstanceLock.take(database)
    except InstanceLocked as error:
        raise StartupError(str(error)) from None
    except OSError as error:
        # Most often the database's folder is missing or not writable: say so as for the file.
        reason = error.strerror or str(error)
        raise StartupError(f"HEARD_DATABASE: cannot open {database}: {reason}") from None


async def _checked_database(database: Path, clock: Clock) -> SQLiteRepository:
    """Open the database if it is whole and the clock is not behind what it holds."""
    damage = await asyncio.to_thread(database_damage, database)
    if damage is not None:
        raise StartupError(damage)
    repository = await SQLiteRepository.open(database)
    try:
        problem = clock_problem(await repository.activity(), clock.now())
    except BaseException:
        await repository.close()
        raise
    if problem is not None:
        await repository.close()
        raise StartupError(problem)
    return repository


def _backups(
    settings: Settings, repository: SQLiteRepository, clock: Clock, notice: AdminNotice
) -> ScheduledBackups | None:
    """Return the daily backups if HEARD_BACKUP_DIR is set."""
    folder = settings.heard_backup_dir
    if folder is None:
        return None
    database, keep = settings.heard_database, settings.heard_backup_keep
    return ScheduledBackups(database, folder, keep, repository, clock, notice)


def _staff_codes(settings: Settings) -> StaffCodes:
    """Read the key of the audit log's staff codes; one that cannot be read stops start-up."""
    try:
        return StaffCodes.beside(settings.heard_database)
    except StaffCodeError as error:
        raise StartupError(f"HEARD_DATABASE: {error}") from None


def _screener(phrases: PhraseList) -> Screener:
    """Build the screener with the shipped risk model; a broken model file stops start-up."""
    try:
        return Screener(phrases, RiskModel.shipped())
    except RiskModelError as error:
        raise StartupError(f"the risk model: {error}") from None


def _support(settings: Settings, clock: Clock) -> SupportFile:
    """Load the support lines once; warn in the log when they are due a review."""
    try:
        support = load_support(settings.heard_support_file)
    except SupportError as error:
        raise StartupError(f"HEARD_SUPPORT_FILE: {error}") from None
    warning = review_warning(support, clock.now().astimezone(settings.zone).date())
    if warning is not None:
        log.warning("%s", warning)
    return support


async def redeliver_pending(journey: Journey, locks: ChatLocks) -> None:
    """Show each participant whatever was saved but not shown to them (crash or outage)."""
    for pending in await journey.repository.undelivered():
        async with locks.hold(pending.chat_id):
            fresh = await journey.repository.run(pending.run.id)
            if fresh is None or not fresh.needs_delivery:
                continue
            try:
                await journey.redeliver(replace(pending, run=fresh))
            except TelegramError as error:
                log.warning("redelivery failed, will retry: %s", error)
                return


async def _report_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the traceback; tell the participant kindly, never with the traceback."""
    if isinstance(context.error, InvalidToken):
        return  # the bot is stopping, and says why in one line
    log.error("an update could not be handled", exc_info=context.error)
    chat = update.effective_chat if isinstance(update, Update) else None
    if chat is None or chat.type != "private":
        return
    # Honest about what was kept: a database that refused the write kept nothing of it.
    key = "error_storage" if isinstance(context.error, StorageUnavailable) else "error"
    try:
        await context.bot.send_message(chat.id, catalog("en")(key))
    except TelegramError:
        log.warning("could not tell the participant about the error")
