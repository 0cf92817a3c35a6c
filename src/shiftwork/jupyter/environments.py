"""What JupyterLab's forms offer: Shiftwork's kernels as runtime environments, its formats, its advanced options."""

from __future__ import annotations

from typing import Any

from jupyter_scheduler.environments import EnvironmentManager
from jupyter_scheduler.executors import ExecutionManager
from jupyter_scheduler.models import JobFeature, RuntimeEnvironment

from shiftwork.models import OUTPUT_FORMATS

# What Shiftwork does of the options Jupyter Scheduler knows (GET /scheduler/config): the values of the ones its
# models have no field for travel in runtime_environment_parameters (translate.JOB_SETTINGS, DEFINITION_SETTINGS)
FEATURES = {
    JobFeature.job_name: True,
    JobFeature.parameters: True,
    JobFeature.output_formats: True,
    JobFeature.job_definition: True,
    JobFeature.idempotency_token: True,
    JobFeature.tags: True,
    JobFeature.email_notifications: True,  # a definition's notify (failure, success) to the stack's topic
    JobFeature.timeout_seconds: True,
    JobFeature.retry_on_timeout: True,  # a timed-out job is FAILED, and FAILED jobs are retried
    JobFeature.max_retries: True,
    JobFeature.min_retry_interval_millis: True,  # retry_backoff_seconds, doubling each attempt
    JobFeature.output_filename_template: False,  # outputs are named one way
    JobFeature.stop_job: True,
    JobFeature.delete_job: True,
}


class ShiftworkEnvironmentManager(EnvironmentManager):
    """The kernels Shiftwork's runner can start, each with every output format Shiftwork makes."""

    backend: Any = None  # set by ShiftworkScheduler: its Service or Client

    def list_environments(self) -> list[RuntimeEnvironment]:
        from shiftwork.jupyter.http_status import ShiftworkEnvironmentError

        try:
            kernels = self.backend.runtime_environments()
        except Exception as error:  # shown in the form: no stack yet, or the API is unreachable
            raise ShiftworkEnvironmentError(error) from error
        return [
            RuntimeEnvironment(
                name=kernel.name,
                # JupyterLab's environment picker sends an option's label as the environment's name (and finds
                # its output formats by it): the kernel's name, its display name in the description (the tooltip)
                label=kernel.name,
                description=f"{kernel.label} ({kernel.language or 'kernel'}), run by Shiftwork",
                file_extensions=["ipynb"],
                output_formats=[choice.name for choice in kernel.output_formats],
                metadata={"language": kernel.language or "", "runs_on": "shiftwork"},
                compute_types=None,
                default_compute_type=None,
                utc_only=False,
            )
            for kernel in kernels
        ]

    def manage_environments_command(self) -> str:
        return ""

    def output_formats_mapping(self) -> dict[str, str]:
        return {spec.name: spec.display_name for spec in OUTPUT_FORMATS.values()}


def adopt(manager: EnvironmentManager, backend: Any) -> EnvironmentManager:
    """Serve Shiftwork's kernels through the manager the app made: ours when configured, or the default (Conda)
    one turned into ours, so that one flag (--SchedulerApp.scheduler_class) is enough. A custom one is left as is."""
    from jupyter_scheduler.environments import CondaEnvironmentManager

    if type(manager) is CondaEnvironmentManager:
        manager.__class__ = ShiftworkEnvironmentManager
    if isinstance(manager, ShiftworkEnvironmentManager):
        manager.backend = backend
    return manager


class ShiftworkExecutionManager(ExecutionManager):
    """Never runs anything: Shiftwork's runner executes the jobs. Jupyter Scheduler asks it for the features."""

    def execute(self) -> None:
        raise RuntimeError("Shiftwork's runner executes jobs, not the Jupyter server")

    def supported_features(cls) -> dict[JobFeature, bool]:  # called as cls.supported_features(cls)
        return dict(FEATURES)

    def validate(cls, input_path: str) -> bool:
        return True
