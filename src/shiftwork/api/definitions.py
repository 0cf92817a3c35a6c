"""Job definitions: create, list, show, update (a new version), pause, resume, delete, run now.

Create, update, pause, resume and delete change the definition's EventBridge Scheduler schedules in the same call.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shiftwork.api.run_after import check_deletable, checked_upstream, run_after_changes
from shiftwork.api.validation import check_formats, check_kernel, check_notebook, folder_files, resolve_kernel
from shiftwork.errors import Conflict, InvalidSpec, LimitReached, NotFound
from shiftwork.models import (
    ConflictPolicy,
    CreateJobDefinition,
    DescribeJob,
    DescribeJobDefinition,
    ListJobDefinitionsResponse,
    UpdateJobDefinition,
)
from shiftwork.models.limits import check_definition_id, check_record_size, check_schedule_names
from shiftwork.models.parameters import check_parameters
from shiftwork.schedules import compile_to_eventbridge, parse_trigger
from shiftwork.schedules.scheduler_api import delete_schedules, fire_payload, put_schedules, schedule_name
from shiftwork.store import definitions, files, jobs, slots, versions

if TYPE_CHECKING:
    from shiftwork.api.service import Service
    from shiftwork.api.workflows import WorkflowCode
    from shiftwork.models.definition import ListJobDefinitionsQuery


RUN_TOKEN_NAMESPACE = uuid.UUID("0d6f6c4e-5f61-4f0e-9a57-3b7f0e8e2c19")  # a run's id from (definition, token)
RESERVED_PREFIXES = (*files.OWN_PREFIXES, "inbox/")  # written by Shiftwork itself, or run as notebooks


def check_watch_prefix(prefix: str | None) -> None:
    if prefix is None:
        return
    if not prefix or prefix.startswith("/") or prefix.startswith(RESERVED_PREFIXES):
        raise InvalidSpec(
            "watch prefix",
            prefix,
            f"must be a non-empty S3 key prefix outside {', '.join(RESERVED_PREFIXES)}, e.g. data/prices/",
        )


Versions = list[DescribeJobDefinition]  # a definition's versions, newest first
REPLACE_ATTEMPTS = 20  # replacements of one id racing: each loss means another one got its version


def definition_prefix(definition_id: str, version: int) -> str:
    """Where a version's notebook snapshot goes: its own prefix per attempt, so a writer that loses the race
    for a version never overwrites the snapshot of the one that won it."""
    return f"definitions/{definition_id}/v{version}-{uuid.uuid4().hex[:8]}/input/"


def _version(
    request: CreateJobDefinition,
    notebook: Path,
    definition_id: str,
    existing: DescribeJobDefinition | None,
    trigger: dict[str, Any],
    compiled: list[dict[str, Any]],
    now: datetime,
    kernel_name: str,
) -> DescribeJobDefinition:
    """The definition `request` describes (with the kernel resolved for it): version 1, or the one after `existing`."""
    version = existing.version + 1 if existing else 1
    now_ms = int(now.timestamp() * 1000)
    return DescribeJobDefinition(
        job_definition_id=definition_id,
        name=request.name or notebook.stem,
        version=version,
        input_filename=notebook.name,
        input_prefix=definition_prefix(definition_id, version),
        kernel_name=kernel_name,
        **request.run_settings(),
        schedule=request.schedule,
        timezone=request.timezone,
        watch_prefix=request.watch_prefix,
        trigger=trigger,
        compiled=compiled,
        active=request.active,
        max_running_jobs=request.max_running_jobs,
        misfire_grace_time=request.misfire_grace_time,
        coalesce=request.coalesce,
        max_retries=request.max_retries,
        retry_backoff_seconds=request.retry_backoff_seconds,
        notify=request.notify,
        run_after=request.run_after,  # resolved to the upstream's id by create
        run_after_condition=request.run_after_condition if request.run_after else None,
        create_time=existing.create_time if existing else now_ms,
        update_time=now_ms,
        active_since=now_ms,
    )


class Definitions:
    def __init__(self, service: Service) -> None:
        self.service = service
        self.settings = service.settings

    def _inputs(self, notebook: Path, with_folder: bool, prefix: str) -> dict[str, Path]:
        """The files a snapshot under prefix would hold, their keys checked: nothing is written yet."""
        inputs = folder_files(notebook.resolve().parent) if with_folder else {notebook.name: notebook}
        files.check_tree(inputs, prefix)
        return inputs

    def _undo_snapshot(self, definition_id: str, prefix: str) -> None:
        """Delete a snapshot whose version was not recorded (unless a concurrent change recorded it)."""
        with contextlib.suppress(NotFound):
            if definitions.get(definition_id).input_prefix == prefix:
                return
        files.delete_prefix(prefix, self.settings)

    def _record(self, definition: DescribeJobDefinition, inputs: dict[str, Path], write: Any) -> Any:
        """Snapshot, then `write()` the record and put the schedules; a step that fails undoes the ones before."""
        files.upload_tree(inputs, definition.input_prefix, self.settings)
        try:
            written = write()
        except BaseException:
            self._undo_snapshot(definition.job_definition_id, definition.input_prefix)
            raise
        return written

    def _compile(self, schedule: str, timezone: str, now: datetime) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        trigger = parse_trigger(schedule, timezone, now=now)
        compiled = compile_to_eventbridge(trigger, now=now)
        return trigger.to_dict(), [c.to_dict() for c in compiled]

    def create(
        self,
        request: CreateJobDefinition,
        job_definition_id: str | None = None,
        workflow: WorkflowCode | None = None,
    ) -> DescribeJobDefinition:
        """Validate everything, snapshot the notebook, store version 1 and create its schedules.

        With --conflict replace on an existing id it stores the next version instead. Replacements racing each
        other each get a version of their own, in turn: the store takes a replacement only in place of the
        version it read, so one that lost the race reads again and takes the next (each its own snapshot).
        """
        notebook = Path(request.input_uri).expanduser()
        if workflow is None:
            kernel_name = resolve_kernel(check_notebook(notebook), request.kernel_name)
            check_formats(request.output_formats)
        else:
            kernel_name = "python3"  # unused: a workflow's notebook tasks run on their notebooks' kernels
        now = datetime.now(UTC).replace(microsecond=0)
        check_watch_prefix(request.watch_prefix)
        trigger, compiled = self._compile(request.schedule, request.timezone, now) if request.schedule else ({}, [])
        definition_id = check_definition_id(job_definition_id) if job_definition_id else str(uuid.uuid4())
        upstream = checked_upstream(definition_id, request.run_after, request.schedule)
        request = request.model_copy(update={"run_after": upstream})
        check_schedule_names(schedule_name(definition_id, index) for index in range(len(compiled)))
        for _ in range(REPLACE_ATTEMPTS):
            existing = None
            if job_definition_id:
                with contextlib.suppress(NotFound):
                    existing = definitions.get(job_definition_id)
            if existing is not None and request.conflict_policy == ConflictPolicy.KEEP:
                return existing
            if existing is not None and request.conflict_policy == ConflictPolicy.ERROR:
                raise InvalidSpec(
                    "job definition id",
                    job_definition_id,
                    "exists already: choose --conflict replace or keep, or another id",
                )
            definition = _version(request, notebook, definition_id, existing, trigger, compiled, now, kernel_name)
            if workflow is not None:
                definition = workflow.definition(definition)
            check_record_size("definition", definition)
            if workflow is not None:
                inputs = workflow.inputs(definition.input_prefix)
            else:
                inputs = self._inputs(notebook, request.package_input_folder, definition.input_prefix)
            write = partial(definitions.put, definition, replacing=existing.version if existing else None)
            try:
                self._record(definition, inputs, write)
            except Conflict:  # another create or update of this id won (this snapshot is undone): read it again
                continue
            try:
                self._schedule_latest(definition, now)
            except BaseException:
                self._restore(definition, existing, now)
                raise
            versions.keep(definition, self.settings)
            return definition
        raise Conflict(definition_id, f"changed {REPLACE_ATTEMPTS} times while this replaced it", "a pause: try again")

    def _schedule_latest(self, definition: DescribeJobDefinition, now: datetime) -> None:
        """Put the schedules of the definition's latest version, whichever change of it wrote them last."""
        while True:
            put_schedules(definition, self.settings, now)
            try:
                latest = definitions.get(definition.job_definition_id)
            except NotFound:
                return  # deleted meanwhile: its delete removed the schedules
            if (latest.version, latest.update_time) == (definition.version, definition.update_time):
                return
            definition = latest

    def _restore(self, failed: DescribeJobDefinition, previous: DescribeJobDefinition | None, now: datetime) -> None:
        """Put back what was before a change whose schedules could not be made: the record, its schedules."""
        if previous is None:
            delete_schedules(failed.job_definition_id, self.settings)
            definitions.delete(failed.job_definition_id)
        else:
            with contextlib.suppress(Conflict):  # changed again meanwhile: that change stands
                definitions.put(previous, replacing=failed.version)
            with contextlib.suppress(Exception):  # the schedules' own failure is the error to report
                put_schedules(previous, self.settings, now)
        if failed.input_prefix != (previous.input_prefix if previous else None):
            files.delete_prefix(failed.input_prefix, self.settings)

    def get(self, definition_id: str) -> DescribeJobDefinition:
        return definitions.get(definition_id)

    def list(
        self,
        max_items: int | None = None,
        next_token: str | None = None,
        *,
        query: ListJobDefinitionsQuery | None = None,
    ) -> ListJobDefinitionsResponse:
        """One page of the definitions `query` selects (default: all, newest first, 100 a page).

        max_items and next_token, when given, replace the query's.
        """
        return definitions.list_definitions(max_items, next_token, query=query)

    def versions(self, definition_id: str) -> Versions:
        """Every version kept (newest first); a definition made before versions were kept shows its current one."""
        current = definitions.get(definition_id)
        kept = versions.list_versions(definition_id, self.settings)
        return kept if kept and kept[0].version == current.version else [current, *kept]

    def update(self, definition_id: str, request: UpdateJobDefinition) -> DescribeJobDefinition:
        """A new version with the given fields changed; the schedules follow in the same call."""
        current = definitions.get(definition_id)
        changes: dict[str, Any] = request.model_dump(
            exclude_none=True, exclude={"input_uri", "run_after", "run_after_condition"}
        )
        if request.output_formats is not None:
            check_formats(request.output_formats)
        if request.kernel_name is not None:
            check_kernel(request.kernel_name)
        now = datetime.now(UTC).replace(microsecond=0)
        version = current.version + 1
        check_watch_prefix(request.watch_prefix)
        changes.update(run_after_changes(current, request))
        chain = changes.pop("unchanged", None)  # the run-after chain the check read: the write checks it too
        if request.schedule is not None or (request.timezone is not None and current.schedule):
            schedule = request.schedule or current.schedule
            assert schedule is not None
            timezone = request.timezone or current.timezone
            changes["trigger"], changes["compiled"] = self._compile(schedule, timezone, now)
        inputs: dict[str, Path] = {}
        if request.input_uri is not None:
            notebook = Path(request.input_uri).expanduser()
            snapshot = check_notebook(notebook)
            if request.kernel_name is None:  # a new notebook brings its own kernelspec, unless --kernel is given
                changes["kernel_name"] = resolve_kernel(snapshot, None)
            changes["input_filename"] = notebook.name
            changes["input_prefix"] = definition_prefix(definition_id, version)
            inputs = self._inputs(notebook, current.package_input_folder, changes["input_prefix"])
        check_schedule_names(schedule_name(definition_id, i) for i in range(len(changes.get("compiled", []))))
        check_record_size("definition", current.model_copy(update=changes))
        if "coalesce" in changes:
            changes["coalesce"] = str(changes["coalesce"])
        write = partial(definitions.update, definition_id, current.version, version=version, unchanged=chain, **changes)
        updated = self._record(current.model_copy(update=changes), inputs, write) if inputs else write()
        try:
            self._schedule_latest(updated, now)
        except BaseException:
            self._restore(updated, current, now)
            raise
        versions.keep(updated, self.settings)
        return updated

    def pause(self, definition_id: str) -> DescribeJobDefinition:
        current = definitions.get(definition_id)
        paused = definitions.update(definition_id, current.version, active=False)
        self._schedule_latest(paused, datetime.now(UTC))
        return paused

    def resume(self, definition_id: str, resume_from: str = "now") -> DescribeJobDefinition:
        """Active again. From now (what was missed is skipped), or from a past time (it is owed, as late fires)."""
        current = definitions.get(definition_id)
        now = datetime.now(UTC).replace(microsecond=0)
        if resume_from == "now":
            since = now
        else:
            from shiftwork.schedules.parse import parse_moment

            since = parse_moment(resume_from, current.timezone, "--from")
            if since > now:
                raise InvalidSpec("--from", resume_from, "must be now or a time in the past")
        resumed = definitions.update(
            definition_id, current.version, active=True, active_since=int(since.timestamp() * 1000)
        )
        self._schedule_latest(resumed, now)
        if since < now:
            self.deliver_missed(resumed, since, now)
        return resumed

    def deliver_missed(
        self, definition: DescribeJobDefinition, since: datetime, now: datetime, limit: int = 1000
    ) -> int:
        """Send the fires owed between since and now to the dispatcher, late; its policies decide what runs."""
        from shiftwork.schedules import trigger_from_dict

        if not definition.trigger:
            return 0
        trigger = trigger_from_dict(definition.trigger, definition.timezone)
        count = 0
        for fire in trigger.fire_times(since):
            if fire > now or count >= limit:
                break
            self.service.deliver_fire(json.loads(fire_payload(definition.job_definition_id, fire.isoformat())))
            count += 1
        return count

    def delete(self, definition_id: str) -> None:
        """Remove the schedules, the record and the notebook snapshots; the jobs it ran stay."""
        definitions.get(definition_id)
        check_deletable(definition_id)
        delete_schedules(definition_id, self.settings)
        definitions.delete(definition_id)
        files.delete_prefix(f"definitions/{definition_id}/", self.settings)

    def run(
        self, definition_id: str, parameters: dict[str, Any] | None = None, idempotency_token: str | None = None
    ) -> DescribeJob:
        """Run the current version now (Jupyter Scheduler's "Run Job"), parameters overriding its own.

        Over max_running_jobs it is refused (LimitReached, a Conflict: HTTP 409, nothing written), not queued or
        SKIPPED: someone is waiting for this answer, a SKIPPED record would look like a run that happened, and
        there is no waiting room to queue it in. The job takes its slot in the transaction that records it.
        With an idempotency_token, a repeat of the request (or a concurrent one) gets the job the first one made.
        """
        from shiftwork.dispatch.fire import new_job

        definition = definitions.get(definition_id)
        job_id = str(uuid.uuid4())
        if idempotency_token:
            job_id = str(uuid.uuid5(RUN_TOKEN_NAMESPACE, f"{definition_id}/{idempotency_token}"))
            try:
                return jobs.get(job_id)
            except NotFound:
                pass
        job = new_job(
            definition,
            job_id,
            None,
            parameters=check_parameters(parameters or {}),
            idempotency_token=idempotency_token,
        )
        check_record_size("job", job)
        try:
            slots.admit(job)
        except LimitReached:
            raise
        except Conflict:
            if not idempotency_token:
                raise
            return jobs.get(job_id)  # a concurrent request with the same token recorded it first
        self.service.request_dispatch(job.job_id)
        return job
