"""Output formats a job can ask for, and the nbconvert exporter that makes each."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OutputFormat:
    name: str  # what users type: --format html
    exporter: str  # nbconvert exporter name
    extension: str  # file extension of the output ("" means: the language's own, for scripts)
    display_name: str  # Jupyter Scheduler's label in the job_files list
    requires: str | None = None  # an executable the exporter needs


OUTPUT_FORMATS: dict[str, OutputFormat] = {
    f.name: f
    for f in (
        OutputFormat("ipynb", "notebook", "ipynb", "Notebook"),
        OutputFormat("html", "html", "html", "HTML"),
        OutputFormat("markdown", "markdown", "md", "Markdown"),
        OutputFormat("script", "script", "", "Script"),
        OutputFormat("latex", "latex", "tex", "LaTeX"),
        OutputFormat("pdf", "pdf", "pdf", "PDF", requires="xelatex"),
    )
}
