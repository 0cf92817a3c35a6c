"""The embedded stack's stand-in for EventBridge Scheduler's own clock.

Each tick it reads the schedules back from the EventBridge Scheduler API (not a private copy), works out which
fired since the last tick (shiftwork.schedules.eventbridge: as EventBridge evaluates them) and sends each
target's Input, with <aws.scheduler.scheduled-time> filled in, to the target: the dispatch queue.

On start it also owes what fired while no stack ran: the fires of every active definition since the last tick
(kept in the state directory) are delivered late, and the dispatcher's misfire and coalesce policies decide.
It then re-creates every active definition's schedules (EventBridge Scheduler state is not journaled: the
definitions are the truth), and sweeps rearm-kind definitions left without a future fire.

Every 15 minutes it sends the completion function the "Scheduled Event" the AWS stack's rule sends it: the
reconciliation of the definitions' max_running_jobs counts.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from shiftwork import aws
from shiftwork.config import get_settings
from shiftwork.local.background import guarded, run_loop
from shiftwork.schedules.eventbridge import fire_times

log = logging.getLogger(__name__)

Now = Callable[[], datetime]
SWEEP_EVERY_TICKS = 60
SWEEP_GRACE_SECONDS = 120  # a one-shot this far in the past was not re-armed by the dispatcher
RECONCILE_EVERY_TICKS = 900  # 15 minutes at one tick a second, as the AWS stack's rule


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Clock(threading.Thread):
    def __init__(self, state_file: Path, *, interval: float = 1.0, now: Now = _utc_now) -> None:
        super().__init__(daemon=True, name="scheduler-clock")
        self.state_file = state_file
        self.interval = interval
        self.now = now
        self._stopping = threading.Event()
        self._cache: dict[str, tuple[Any, dict[str, Any]]] = {}
        self._ticks = 0
        self.last_tick = self._load()

    def _load(self) -> datetime | None:
        try:
            return datetime.fromisoformat(json.loads(self.state_file.read_text())["last_tick"])
        except (OSError, ValueError, KeyError):
            return None

    def _save(self, moment: datetime) -> None:
        temporary = self.state_file.with_suffix(".tmp")
        temporary.write_text(json.dumps({"last_tick": moment.isoformat()}))
        temporary.replace(self.state_file)
        self.last_tick = moment

    def start_up(self) -> int:
        """Deliver what was missed while no stack ran, then put every active definition's schedules back."""
        from shiftwork.api.service import Service
        from shiftwork.schedules.scheduler_api import put_schedules

        service = Service()
        now = self.now()
        owed = 0
        token = None
        while True:
            page = service.definitions.list(max_items=100, next_token=token)
            for definition in page.job_definitions:
                if not definition.active:
                    put_schedules(definition)  # DISABLED, but present, as in AWS
                    continue
                if self.last_tick is not None:
                    since = max(self.last_tick, datetime.fromtimestamp(definition.active_since / 1000, UTC))
                    owed += service.definitions.deliver_missed(definition, since + timedelta(microseconds=1), now)
                put_schedules(definition, now=now)
            token = page.next_token
            if not token:
                break
        self._save(now)
        if owed:
            log.info("delivered %d fire(s) missed while the stack was down", owed)
        return owed

    def run(self) -> None:
        self._stopping.wait(self.interval)
        run_loop("the scheduler clock", self._chores, self._stopping, idle=self.interval)

    def _chores(self) -> None:
        """A tick; every so often a sweep and a reconciliation too, each guarded: a failed one delays no fire."""
        self._ticks += 1
        if self._ticks % SWEEP_EVERY_TICKS == 0:
            guarded("the scheduler clock's sweep", self.sweep, self._stopping)
        if self._ticks % RECONCILE_EVERY_TICKS == 0:
            guarded("the scheduler clock's reconciliation", self.reconcile, self._stopping)
        self.tick()

    def stop(self) -> None:
        self._stopping.set()

    def tick(self) -> int:
        """Fire every enabled schedule due in (last tick, now]; returns how many fires were sent."""
        settings = get_settings()
        scheduler = aws.client("scheduler", settings)
        now = self.now()
        since = self.last_tick or now
        sent = 0
        for page in scheduler.get_paginator("list_schedules").paginate(GroupName=settings.schedule_group):
            for summary in page.get("Schedules", []):
                if summary.get("State") != "ENABLED":
                    continue
                schedule = self._schedule(scheduler, summary, settings.schedule_group)
                for fire in fire_times(
                    schedule["ScheduleExpression"],
                    schedule.get("ScheduleExpressionTimezone") or "UTC",
                    since + timedelta(microseconds=1),
                    now,
                    schedule.get("StartDate"),
                    schedule.get("EndDate"),
                ):
                    self._send(schedule["Target"], fire)
                    sent += 1
        self._save(now)
        return sent

    def sweep(self) -> int:
        """Re-arm every active rearm-kind definition whose one-shot is no longer ahead (its re-arm was lost)."""
        from shiftwork.api.service import Service
        from shiftwork.schedules.scheduler_api import put_schedules, schedule_name

        settings = get_settings()
        scheduler = aws.client("scheduler", settings)
        service = Service()
        stale = datetime.now(UTC) - timedelta(seconds=SWEEP_GRACE_SECONDS)
        rearmed, token = 0, None
        while True:
            page = service.definitions.list(max_items=100, next_token=token)
            for definition in page.job_definitions:
                if not definition.active or not any(c.get("kind") == "rearm" for c in definition.compiled):
                    continue
                try:
                    schedule = scheduler.get_schedule(
                        Name=schedule_name(definition.job_definition_id, 0), GroupName=settings.schedule_group
                    )
                    at = datetime.fromisoformat(schedule["ScheduleExpression"][3:-1]).replace(tzinfo=UTC)
                except (scheduler.exceptions.ResourceNotFoundException, ValueError):
                    at = None
                if at is None or at < stale:
                    put_schedules(definition)
                    rearmed += 1
            token = page.next_token
            if not token:
                return rearmed

    def reconcile(self) -> Any:
        """Send the completion function its periodic "Scheduled Event": it repairs drifted slot counts."""
        from shiftwork.local.lambdas import invoke

        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": "123456789012",
            "time": self.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": get_settings().region,
            "resources": ["arn:aws:events:us-east-1:123456789012:rule/shiftwork-reconcile-counts"],
            "detail": {},
        }
        return invoke("complete", event)

    def _schedule(self, scheduler: Any, summary: dict[str, Any], group: str) -> dict[str, Any]:
        name = summary["Name"]
        cached = self._cache.get(name)
        if cached is None or cached[0] != summary.get("LastModificationDate"):
            schedule = scheduler.get_schedule(Name=name, GroupName=group)
            self._cache[name] = (summary.get("LastModificationDate"), schedule)
            return schedule
        return cached[1]

    def _send(self, target: dict[str, Any], fire: datetime) -> None:
        """Deliver the target's Input as EventBridge Scheduler would (context attributes filled in)."""
        body = (
            target.get("Input", "{}")
            .replace("<aws.scheduler.scheduled-time>", fire.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
            .replace("<aws.scheduler.execution-id>", str(uuid.uuid4()))
            .replace("<aws.scheduler.attempt-number>", "1")
        )
        sqs = aws.client("sqs")
        queue_name = target["Arn"].rsplit(":", 1)[-1]
        sqs.send_message(QueueUrl=sqs.get_queue_url(QueueName=queue_name)["QueueUrl"], MessageBody=body)
