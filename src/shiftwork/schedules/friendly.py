"""Datatailr's friendly Schedule: named fields compiled to a 6-field cron string (seconds first)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from shiftwork.errors import InvalidSpec
from shiftwork.schedules.cron import MONTHS, WEEKDAYS
from shiftwork.schedules.triggers import CronTrigger

if TYPE_CHECKING:
    from shiftwork.models.definition import RunAfterCondition


def _names(values: list[str], table: dict[str, int], what: str) -> str:
    numbers = []
    for value in values:
        key = str(value).strip().lower()[:3]
        if key not in table:
            raise InvalidSpec(what, value, f"use one of {', '.join(n.capitalize() for n in table)}")
        numbers.append(table[key])
    return ",".join(str(n) for n in sorted(set(numbers)))


def _numbers(values: list[int], low: int, high: int, what: str) -> str:
    for value in values:
        if not isinstance(value, int) or not low <= value <= high:
            raise InvalidSpec(what, value, f"must be a whole number from {low} to {high}")
    return ",".join(str(v) for v in sorted(set(values)))


def _every(value: int, what: str) -> str:
    if not isinstance(value, int) or value < 1:
        raise InvalidSpec(what, value, "must be a positive whole number")
    return f"*/{value}"


_TIME_FIELDS = (
    "cron_expression",
    "at_minutes",
    "every_minute",
    "at_hours",
    "every_hour",
    "weekdays",
    "day_of_month",
    "in_month",
    "every_month",
)


@dataclass
class Schedule:
    """When to run, by named fields, e.g. Schedule(at_hours=[8, 16], weekdays=["mon", "fri"]).

    A field left out is unrestricted, except that minutes default to 0 (and hours to 0 when no minute field is
    given), so Schedule(at_hours=[9]) runs once a day at 09:00, not sixty times.
    """

    cron_expression: str = ""
    at_minutes: list[int] | None = None
    every_minute: int | None = None
    at_hours: list[int] | None = None
    every_hour: int | None = None
    weekdays: list[str] | None = None
    day_of_month: int | None = None
    in_month: list[str] | None = None
    every_month: int | None = None
    timezone: str | None = None
    run_after_job_uuid: str | None = None
    run_after_job_name: str | None = None
    run_after_job_condition: str | None = None

    def __post_init__(self) -> None:
        if self.run_after_job_uuid is not None and self.run_after_job_name is not None:
            raise InvalidSpec("run_after_job_name", self.run_after_job_name, "give it or run_after_job_uuid, not both")
        if self.run_after() is None:
            if self.run_after_job_condition is not None:
                raise InvalidSpec(
                    "run_after_job_condition", self.run_after_job_condition, "needs run_after_job_name or _uuid"
                )
            return
        timed = [name for name in _TIME_FIELDS if getattr(self, name) not in (None, "")]
        if timed:
            raise InvalidSpec(timed[0], getattr(self, timed[0]), "a schedule runs after a job or at times, not both")

    def run_after(self) -> tuple[str, RunAfterCondition] | None:
        """The upstream definition (its id or name) and the condition, if this runs after a job; else None."""
        from shiftwork.models.definition import RunAfterCondition, run_after_condition  # pydantic: when used

        upstream = self.run_after_job_uuid or self.run_after_job_name
        if upstream is None:
            return None
        given = self.run_after_job_condition or RunAfterCondition.SUCCESS
        condition = run_after_condition(given)
        if condition not in set(RunAfterCondition):
            raise InvalidSpec("run_after_job_condition", given, 'use "on success", "on failure" or "on completion"')
        return upstream, RunAfterCondition(condition)

    def get_cron_string(self) -> str:
        """The compiled cron string: second minute hour day-of-month month day-of-week."""
        after = self.run_after()
        if after is not None:
            raise InvalidSpec("schedule", after[0], "runs after a job: it has no cron string")
        if self.cron_expression:
            return self.cron_expression
        if self.at_minutes is not None:
            minutes = _numbers(self.at_minutes, 0, 59, "at_minutes")
        elif self.every_minute is not None:
            minutes = _every(self.every_minute, "every_minute")
        else:
            minutes = "0"
        if self.at_hours is not None:
            hours = _numbers(self.at_hours, 0, 23, "at_hours")
        elif self.every_hour is not None:
            hours = _every(self.every_hour, "every_hour")
        else:
            hours = "*" if (self.at_minutes is not None or self.every_minute is not None) else "0"
        day = _numbers([self.day_of_month], 1, 31, "day_of_month") if self.day_of_month is not None else "*"
        if self.in_month is not None:
            months = _names(self.in_month, MONTHS, "in_month")
        elif self.every_month is not None:
            months = _every(self.every_month, "every_month")
        else:
            months = "*"
        weekdays = _names(self.weekdays, WEEKDAYS, "weekdays") if self.weekdays is not None else "*"
        return f"0 {minutes} {hours} {day} {months} {weekdays}"

    def to_trigger(self) -> CronTrigger:
        return CronTrigger.from_expression(self.get_cron_string(), timezone=self.timezone or "UTC")
