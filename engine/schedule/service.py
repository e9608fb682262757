"""The long-running scheduler service: a daily reminder run and frequent delivery retries.

APScheduler only fires the jobs; the work is idempotent (reminders have deterministic identities,
delivery claims each message), so a repeated or concurrent run issues and sends nothing twice.
On start it runs at once: the reminder rule itself coalesces missed days into one catch-up.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

import structlog

from engine.bootstrap import Store, today_in

log = structlog.get_logger(__name__)


class SchedulerService:
    """Runs reminders daily at the timeline's `run_at` (its timezone, DST-correct)."""

    def __init__(self, store: Store, user: str) -> None:
        self.store = store
        self.user = user
        self._lock = threading.Lock()  # one run at a time within this process
        self._stopping = threading.Event()  # set by SIGTERM/SIGINT: a delivery pass stops early
        self._scheduler: Any = None

    def run_daily(self) -> None:
        """Issue today's reminders and deliver what is due."""
        with self._lock:
            day = today_in(self.store.timeline.timezone)
            issued = self.store.remind(day, self.user)
            report = self.store.outbox().deliver(stop=self._stopping.is_set)
            log.info("scheduler.daily_run", day=day, issued=len(issued), sent=report.sent,
                     failed=report.failed, skipped=report.skipped)

    def retry(self) -> None:
        """Deliver reminders whose retry time has come."""
        with self._lock:
            report = self.store.outbox().deliver(stop=self._stopping.is_set)
            if report.sent or report.failed:
                log.info("scheduler.retry_run", sent=report.sent, failed=report.failed)

    def run(self, once: bool = False) -> None:
        """Run once, or serve until SIGTERM/SIGINT."""
        if once:
            self.run_daily()
            return
        from zoneinfo import ZoneInfo

        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.schedulers.blocking import BlockingScheduler
        from apscheduler.triggers.cron import CronTrigger
        from apscheduler.triggers.interval import IntervalTrigger

        timeline = self.store.timeline
        zone = ZoneInfo(timeline.timezone)
        policy = timeline.reminders
        scheduler = BlockingScheduler(
            timezone=zone,
            executors={"default": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1},
        )
        scheduler.add_job(self.run_daily, CronTrigger(hour=policy.run_at.hour,
                                                      minute=policy.run_at.minute, timezone=zone),
                          id="daily", name="daily reminder run")
        scheduler.add_job(self.retry, IntervalTrigger(minutes=policy.retry_minutes),
                          id="retry", name="delivery retry")
        scheduler.add_job(self.run_daily, id="catch-up", name="catch-up on start")
        self._scheduler = scheduler
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._stop)
        log.info("scheduler.started", run_at=str(policy.run_at), timezone=timeline.timezone)
        scheduler.start()
        log.info("scheduler.stopped")

    def _stop(self, signum: int, frame: Any) -> None:
        log.info("scheduler.stopping", signal=signal.Signals(signum).name)
        self._stopping.set()
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
