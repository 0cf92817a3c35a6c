"""ShiftworkScheduler: JupyterLab's Notebook Jobs on Shiftwork, as a jupyter-scheduler BaseScheduler.

    jupyter lab --SchedulerApp.scheduler_class=shiftwork.jupyter.ShiftworkScheduler

Every call goes to Shiftwork through one backend (backend.py): a Client of a REST API (api_url, SHIFTWORK_API_URL),
the Service in this process (the server runs in a stack's environment), or the running `shiftwork up`'s API. Calls
run in worker threads, so the Jupyter server never waits on AWS. This module translates; Shiftwork decides.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from jupyter_scheduler import models as jupyter
from jupyter_scheduler.scheduler import BaseScheduler
from jupyter_scheduler.utils import create_output_filename
from traitlets import Bool, Float, Unicode, default

from shiftwork.config import ENV_API_TOKEN, ENV_API_URL
from shiftwork.errors import Conflict, InvalidSpec, WaitTimeout
from shiftwork.jupyter import http_status, staging, translate
from shiftwork.jupyter.backend import choose_backend, describe, in_stack_environment
from shiftwork.jupyter.environments import ShiftworkExecutionManager, adopt
from shiftwork.jupyter.http_status import ShiftworkSchedulerError
from shiftwork.models import OUTPUT_FORMATS, ListJobsQuery, UpdateJobDefinition

T = TypeVar("T")


class ShiftworkScheduler(BaseScheduler):
    """Jupyter Scheduler's API over Shiftwork: jobs, job definitions and their files."""

    api_url = Unicode(
        config=True, help="A Shiftwork REST API (a deployed stack's, or `shiftwork up`'s); default $SHIFTWORK_API_URL."
    )
    api_token = Unicode(config=True, help="Its bearer token; default $SHIFTWORK_API_TOKEN, else AWS SigV4.")
    state_dir = Unicode(config=True, help="The embedded stack's state directory; default $SHIFTWORK_STATE_DIR.")
    use_service = Bool(
        config=True,
        help="Call Shiftwork's Service in this process (the server's environment is a stack's: SHIFTWORK_* settings "
        "and AWS credentials); default: when SHIFTWORK_ENDPOINT_URL or SHIFTWORK_BUCKET is set.",
    )
    delete_wait_seconds = Float(
        60.0, config=True, help="Deleting a running job stops it first: how long to wait for it to end."
    )
    execution_manager_class = ShiftworkExecutionManager  # only its features are used: Shiftwork runs the jobs
    task_runner = None  # Shiftwork's own schedules fire the definitions

    @default("api_url")
    def _api_url(self) -> str:
        return os.environ.get(ENV_API_URL, "")

    @default("api_token")
    def _api_token(self) -> str:
        return os.environ.get(ENV_API_TOKEN, "")

    @default("state_dir")
    def _state_dir(self) -> str:
        from shiftwork.connection import state_dir_or_default

        return str(state_dir_or_default(None))

    @default("use_service")
    def _use_service(self) -> bool:
        return in_stack_environment()

    def __init__(self, root_dir: str, environments_manager: Any, config: Any = None, **kwargs: Any) -> None:
        kwargs.pop("db_url", None)  # jupyter-scheduler's own database: Shiftwork keeps the records
        super().__init__(root_dir=root_dir, environments_manager=environments_manager, config=config, **kwargs)
        self.backend = choose_backend(self.api_url, self.api_token, self.use_service, Path(self.state_dir))
        adopt(environments_manager, self.backend)
        http_status.install()
        self.log.info("Shiftwork runs JupyterLab's notebook jobs, through %s", describe(self.backend, self.state_dir))

    async def _run(self, work: Callable[..., T], *args: Any) -> T:
        """`work` in a worker thread, pydantic's refusals as Shiftwork's (field, value and fix)."""
        return await asyncio.to_thread(_checked, work, *args)

    # -- jobs ---------------------------------------------------------------------------------------------------
    async def create_job(self, model: jupyter.CreateJob) -> str:
        return await self._run(self._create_job, model)

    def _create_job(self, model: jupyter.CreateJob) -> str:
        if model.job_definition_id:  # "Run Job" of a definition, sent as a job
            parameters = translate.parameters_in(model.parameters)
            job = self.backend.definitions.run(model.job_definition_id, parameters, model.idempotency_token or None)
        else:
            with self._environment_named():
                job = self.backend.create_job(translate.create_job_in(model, Path(self.root_dir)))
        return str(job.job_id)

    @contextmanager
    def _environment_named(self) -> Iterator[None]:
        """Shiftwork's refusal of a kernel, in the words of JupyterLab's form (its environment, not --kernel)."""
        try:
            yield
        except InvalidSpec as error:
            if error.field != "kernel" and "kernel '" not in str(error):
                raise
            names = ", ".join(e.name for e in self.backend.runtime_environments())
            raise InvalidSpec(
                "runtime_environment_name", error.value, f"is not a kernel Shiftwork can run: pick one of {names}"
            ) from None

    async def update_job(self, job_id: str, model: jupyter.UpdateJob) -> None:
        def update() -> None:
            translate.check_unsupported(model)
            status = translate.shiftwork_statuses(model.status)
            self.backend.update_job(job_id, name=model.name, status=status[0] if status else None)

        await self._run(update)

    async def list_jobs(self, query: jupyter.ListJobsQuery) -> jupyter.ListJobsResponse:
        return await self._run(self._list_jobs, query)

    def _list_jobs(self, query: jupyter.ListJobsQuery) -> jupyter.ListJobsResponse:
        size = translate.page_size(query.max_items)
        shiftwork_query = translate.jobs_query_in(query, size)
        page = self.backend.list_jobs(shiftwork_query)
        total = self._total(shiftwork_query, page, len(page.jobs), lambda q: self.backend.iter_jobs(query=q))
        described = []
        for job in page.jobs[:size]:
            model = translate.job_out(job)
            self.add_job_files(model)
            described.append(model)
        next_token = page.next_token if size else None
        return jupyter.ListJobsResponse(jobs=described, total_count=total, next_token=next_token)

    @staticmethod
    def _total(query: Any, page: Any, shown: int, everything: Callable[[Any], Any]) -> int:
        """total_count, which JupyterLab's list pages by: this page's, when it is the first and the last; else a
        count of every match (large pages, from the start)."""
        if not query.next_token and not page.next_token:
            return shown
        return sum(1 for _ in everything(query))

    async def count_jobs(self, query: jupyter.CountJobsQuery) -> int:
        def count() -> int:
            statuses = translate.shiftwork_statuses(query.status)
            queries = [ListJobsQuery(status=status, kind="notebook", max_items=1000) for status in statuses]
            return sum(1 for q in queries for _ in self.backend.iter_jobs(query=q))

        return await self._run(count)

    async def get_job(self, job_id: str, job_files: bool | None = True) -> jupyter.DescribeJob:
        model = await self._run(lambda: translate.job_out(self.backend.get_job(job_id)))
        if job_files:
            self.add_job_files(model)
        return model

    async def delete_job(self, job_id: str) -> None:
        await self._run(self._delete_job, job_id)

    def _delete_job(self, job_id: str) -> None:
        """Jupyter Scheduler deletes a running job too: stop it, wait for it to end, then delete it."""
        job = self.backend.get_job(job_id)
        if not job.is_terminal:
            if job.status.value != "STOPPING":
                self.backend.stop_job(job_id)
            try:
                self.backend.wait_job(job_id, timeout=self.delete_wait_seconds)
            except WaitTimeout as error:
                raise Conflict(job_id, error.status, "ended: it was asked to stop; delete it once it has") from None
        self.backend.delete_job(job_id)
        staging.discard(Path(self.staging_path), job_id)

    async def stop_job(self, job_id: str) -> None:
        await self._run(self.backend.stop_job, job_id)

    # -- job definitions -----------------------------------------------------------------------------------------
    async def create_job_definition(self, model: jupyter.CreateJobDefinition) -> str:
        return await self._run(self._create_job_definition, model)

    def _create_job_definition(self, model: jupyter.CreateJobDefinition) -> str:
        with self._environment_named():
            return str(
                self.backend.definitions.create(
                    translate.create_definition_in(model, Path(self.root_dir))
                ).job_definition_id
            )

    async def update_job_definition(self, job_definition_id: str, model: jupyter.UpdateJobDefinition) -> None:
        await self._run(self._update_job_definition, job_definition_id, model)

    def _update_job_definition(self, definition_id: str, model: jupyter.UpdateJobDefinition) -> None:
        current = self.backend.definitions.get(definition_id)
        changes = translate.definition_changes(current, model, Path(self.root_dir))
        if changes:
            with self._environment_named():
                self.backend.definitions.update(definition_id, UpdateJobDefinition(**changes))
        if model.active is not None and model.active != current.active:
            (self.backend.definitions.resume if model.active else self.backend.definitions.pause)(definition_id)

    async def delete_job_definition(self, job_definition_id: str) -> None:
        await self._run(self.backend.definitions.delete, job_definition_id)

    async def get_job_definition(self, job_definition_id: str) -> jupyter.DescribeJobDefinition:
        return await self._run(lambda: translate.definition_out(self.backend.definitions.get(job_definition_id)))

    async def list_job_definitions(self, query: jupyter.ListJobDefinitionsQuery) -> jupyter.ListJobDefinitionsResponse:
        return await self._run(self._list_job_definitions, query)

    def _list_job_definitions(self, query: jupyter.ListJobDefinitionsQuery) -> jupyter.ListJobDefinitionsResponse:
        size = translate.page_size(query.max_items)
        shiftwork_query = translate.definitions_query_in(query, size)
        page = self._definitions_page(shiftwork_query)
        notebooks = [d for d in page.job_definitions if d.kind == "notebook"]  # workflows are not JupyterLab's
        total = self._total(shiftwork_query, page, len(notebooks), self._notebook_definitions)
        described = [translate.definition_out(d, listing=True) for d in notebooks[:size]]
        next_token = page.next_token if size else None
        return jupyter.ListJobDefinitionsResponse(job_definitions=described, total_count=total, next_token=next_token)

    def _notebook_definitions(self, query: Any) -> Iterator[Any]:
        from shiftwork.models.paging import pages, whole_query

        for page in pages(self._definitions_page, whole_query(query, type(query))):
            yield from (d for d in page.job_definitions if d.kind == "notebook")

    def _definitions_page(self, query: Any) -> Any:
        return self.backend.definitions.list(query=query)

    async def create_job_from_definition(self, job_definition_id: str, model: jupyter.CreateJobFromDefinition) -> str:
        parameters = translate.parameters_in(model.parameters) if model.parameters else None
        job = await self._run(self.backend.definitions.run, job_definition_id, parameters)
        return str(job.job_id)

    # -- files ---------------------------------------------------------------------------------------------------
    async def get_staging_paths(self, model: Any) -> dict[str, str]:
        """A job's files, fetched and packed for JobFilesManager (staging.py); a definition has none to download."""
        if not isinstance(model, translate.ShiftworkJob):
            return {}
        names = self.get_job_filenames(model)
        return await self._run(staging.stage, self.backend, model, names, Path(self.staging_path))

    def get_job_filenames(self, model: jupyter.DescribeJob) -> dict[str, Any]:
        """Jupyter Scheduler's names (<notebook>-<created>.<ext>), with each format's own extension (.py, .md...)."""
        stored = model.output_names() if isinstance(model, translate.ShiftworkJob) else {}
        stem = create_output_filename(model.input_filename, model.create_time)
        names: dict[str, Any] = {}
        for fmt in model.output_formats or []:
            extension = Path(stored[fmt]).suffix.lstrip(".") if fmt in stored else ""
            spec = OUTPUT_FORMATS.get(fmt)
            names[fmt] = f"{stem}.{extension or (spec.extension if spec else '') or fmt}"
        names["input"] = model.input_filename
        if model.packaged_files:
            names["files"] = list(model.packaged_files)
        return names

    def get_local_output_path(self, model: jupyter.DescribeJob, root_dir_relative: bool | None = False) -> str:
        """The job's download folder in the root (jobs/<notebook>-<job id>), always absolute: JobFilesManager asks
        for it root-relative and unpacks there relative to the server's working directory, which is the root only
        when JupyterLab was started in it."""
        return super().get_local_output_path(model, root_dir_relative=False)

    def add_job_files(self, model: jupyter.DescribeJob) -> None:
        """job_files as Jupyter Scheduler lists them (paths once downloaded into the root), and whether they all are;
        the files the notebook wrote show as one "Files" entry (their folder), whether or not it ran with its
        folder."""
        mapping = self.environments_manager.output_formats_mapping()
        names = self.get_job_filenames(model)
        folder = os.path.relpath(self.get_local_output_path(model), self.root_dir)
        entries = [(mapping.get(fmt, fmt), fmt, names[fmt]) for fmt in model.output_formats or []]
        entries.append(("Input", "input", names["input"]))
        files = []
        for display_name, fmt, name in entries:
            path = os.path.join(folder, name)
            found = path if self.file_exists(path) else None
            files.append(jupyter.JobFile(display_name=display_name, file_format=fmt, file_path=found))
        written = [os.path.join(folder, name) for name in names.get("files", [])]
        if written:
            found = folder if self.dir_exists(folder) else None
            files.append(jupyter.JobFile(display_name="Files", file_format="files", file_path=found))
        model.job_files = files
        model.downloaded = all(f.file_path for f in files) and all(self.file_exists(p) for p in written)


def _checked(work: Callable[..., T], *args: Any) -> T:
    """work(*args), Shiftwork's errors as SchedulerErrors so the handlers show their message (pydantic's refusals
    as Shiftwork's: the field, the value and the fix)."""
    from pydantic import ValidationError

    from shiftwork.models.limits import as_invalid_spec

    try:
        return work(*args)
    except ValidationError as error:
        raise ShiftworkSchedulerError(as_invalid_spec(error)) from error
    except Exception as error:  # Shiftwork's status, or 500: never mistaken for the request's own
        raise ShiftworkSchedulerError(error) from error
