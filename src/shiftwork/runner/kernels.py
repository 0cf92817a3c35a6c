"""Which kernel a job runs with, and whether it is installed where jobs run: papermill's and Jupyter Scheduler's rule.

Checked at submit time (the CLI, the API) and, for a notebook that arrives in the S3 inbox with no submit step, by
the runner before it starts.
"""

from __future__ import annotations

from typing import Any

from shiftwork.errors import InvalidSpec

DEFAULT_KERNEL = "python3"


def installed_kernels() -> dict[str, dict[str, str]]:
    """{name: {display_name, language}} of the kernels jobs can use: the runner image's (SHIFTWORK_RUNNER_KERNELS,
    set on AWS, where the API does not run where jobs do), else this machine's."""
    from shiftwork.config import get_settings

    configured = get_settings().runner_kernels
    if configured:
        return {name: {"display_name": name, "language": "python"} for name in configured}
    from jupyter_client.kernelspec import KernelSpecManager

    specs = KernelSpecManager().get_all_specs()
    return {
        name: {"display_name": spec["spec"].get("display_name", name), "language": spec["spec"].get("language")}
        for name, spec in sorted(specs.items())
    }


def check_kernel(kernel_name: str, source: str = "--kernel") -> None:
    """The kernel is installed where the runner runs (this machine for the embedded stack, the runner image on AWS):
    else papermill's NoSuchKernel, as a refusal that names the kernel, where it came from and the fix."""
    installed = sorted(installed_kernels())
    if kernel_name not in installed:
        raise InvalidSpec(
            "kernel",
            kernel_name,
            f"is not installed (no such kernel, named by {source}); available: {', '.join(installed) or '(none)'}: "
            "pass --kernel NAME to run "
            "it with one of them, or install it where jobs run (for Python: python -m ipykernel install --user "
            "--name NAME)",
        )


def resolve_kernel(notebook: Any, requested: str | None) -> str:
    """The kernel a job runs with, papermill's and Jupyter Scheduler's rule: --kernel if given, else the notebook's
    kernelspec, else an installed kernel of the notebook's language, else python3; refused unless installed."""
    if requested:
        check_kernel(requested)
        return requested
    metadata = notebook.get("metadata", {})
    named = (metadata.get("kernelspec") or {}).get("name")
    if named:
        check_kernel(named, "the notebook's kernelspec")
        return str(named)
    language = (metadata.get("language_info") or {}).get("name") or (metadata.get("kernelspec") or {}).get("language")
    if not language or str(language).lower() == "python":
        check_kernel(DEFAULT_KERNEL, "the default, as the notebook names no kernel")
        return DEFAULT_KERNEL
    kernels = installed_kernels()
    for name, spec in kernels.items():
        if str(spec.get("language") or "").lower() == str(language).lower():
            return name
    raise InvalidSpec(
        "kernel",
        f"for language {language}",
        f"none is installed (available: {', '.join(sorted(kernels)) or 'none'}): "
        "pass --kernel NAME to run it with one of them, or install a kernel for it",
    )


def kernel_language(kernel_name: str) -> str | None:
    """The language of an installed kernel (papermill needs it to write the parameters of a notebook that names
    none); None if the kernel is not installed, which papermill then reports as NoSuchKernel."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        return str(KernelSpecManager().get_kernel_spec(kernel_name).language) or None
    except NoSuchKernel:
        return None
