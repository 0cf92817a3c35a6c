"""A real .xlsx whose formulas call PRICER.* and SHIFTWORK.*, computed without Excel by the `formulas` library with
the functions registered to call the local server over HTTP, each cell checked against the Python function called
directly. The computed workbook is kept in test-artifacts/excel-workbook/ to be opened by a human."""

from __future__ import annotations

import contextlib
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("formulas")
openpyxl = pytest.importorskip("openpyxl")

from openpyxl.worksheet.formula import ArrayFormula  # noqa: E402

from tests.excel.workbook import ServerFunctions, compute, registered, value  # noqa: E402

BOOK = "shiftwork-pricer.xlsx"
PRICES = [  # spot, strike, vol, rate, expiry: one row per option
    [100, 95, 0.2, 0.01, 1],
    [80, 100, 0.35, 0.03, 0.5],
    ["x", 95, 0.2, 0.01, 1],  # text in spot: the server says #VALUE! and why
    [100, 95, 0.2, 0.01, -1],  # a negative expiry: the function raises ExcelError("#NUM!", ...)
]
SPOTS = [[90, 100, 110], [120, 130, 140]]
SCHEDULE = ("0 9 * * mon-fri", "Europe/London", 3)
JOBS_ROWS = 5
WORKFLOW = """
from shiftwork import task, workflow


@task(executor="lambda")
def quotes(n: int) -> list[dict]:
    return [{"strike": 90 + 5 * i, "price": round(12.5 - 2.25 * i, 2)} for i in range(n)]


@workflow(name="excel-quotes")
def book(n: int = 3):
    quotes(n)
"""


@dataclass
class Computed:
    path: Path
    model: Any  # formulas.ExcelModel
    first: Any  # the solution of the first calculation (RUN starts the job)
    second: Any  # a recalculation once the job has ended
    client: ServerFunctions
    requests_first: int
    definition_id: str
    definition_name: str
    run_id: str  # the workflow run whose task RESULT shows
    fires_around: list[list[float]]  # NEXT_FIRES as the Service previews it, before and after computing
    jobs_around: list[Any]  # SHIFTWORK.JOBS called in-process just before and just after the recalculation


def build(path: Path, definition: str, run_id: str) -> Path:
    """The workbook: inputs, PRICER.* formulas (plain, nested, a range, dates, errors) and SHIFTWORK.* formulas."""
    book = openpyxl.Workbook()
    pricer = book.active
    pricer.title = "Pricer"
    pricer.append(["Option", "Spot", "Strike", "Vol", "Rate", "Expiry", "Price"])
    for row, inputs in enumerate(PRICES, start=2):
        pricer.append([f"option {row - 1}", *inputs, f"=PRICER.PRICE_OPTION(B{row}, C{row}, D{row}, E{row}, F{row})"])
    pricer["I2"] = "=ROUND(PRICER.PRICE_OPTION(B2, C2, D2, E2, F2), 2) * 2"
    pricer["I3"] = "=PRICER.PRICE_OPTION(B2, C2, D2, E2, F2, FALSE)"  # the optional argument: a put
    pricer["I4"] = "=PRICER.YEAR_FRACTION(DATE(2027,6,30), DATE(2026,12,1))"  # dates as serials, through DATE()
    pricer["I5"] = '=IFERROR(G4, "bad spot")'  # Excel's own functions see the add-in's error value
    for r, row in enumerate(SPOTS, start=10):
        for c, spot in enumerate(row):
            pricer.cell(row=r, column=1 + c, value=spot)
    pricer["E10"] = ArrayFormula("E10:G11", "=PRICER.GRID(A10:C11, 95)")
    shiftwork = book.create_sheet("Shiftwork")
    shiftwork["A1"] = ArrayFormula("A1:A3", '=SHIFTWORK.NEXT_FIRES("{}", "{}", {})'.format(*SCHEDULE))
    shiftwork["C1"] = f'=SHIFTWORK.RUN("{definition}", "x", 2)'
    shiftwork["E1"] = run_id
    shiftwork["E2"] = ArrayFormula("E2:F5", '=SHIFTWORK.RESULT(E1, "quotes")')
    shiftwork["A10"] = ArrayFormula(f"A10:H{10 + JOBS_ROWS}", f'=SHIFTWORK.JOBS("COMPLETED", {JOBS_ROWS})')
    book.save(path)
    return path


def _quotes_run(service: Any, folder: Path) -> str:
    """A workflow run of one light task (in a warm in-process worker), ended."""
    from shiftwork.workflows import load_workflow

    (folder / "excel_quotes.py").write_text(WORKFLOW)
    try:
        run = load_workflow(f"{folder / 'excel_quotes.py'}:book").run(using=service, n=3)
    finally:
        sys.modules.pop("excel_quotes", None)
        while str(folder) in sys.path:
            sys.path.remove(str(folder))
    done = run.wait(timeout=60)
    assert done.status.value == "COMPLETED", done.status_message
    return run.run_id


def _jobs_in_process(excel_server: Any) -> Any:
    return excel_server.registry.find("SHIFTWORK.JOBS").call(["COMPLETED", JOBS_ROWS])


def _fires(service: Any) -> list[list[float]]:
    from shiftwork.excel.values import to_serial

    return [[to_serial(fire)] for fire in service.preview_schedule(*SCHEDULE).fires]


@pytest.fixture(scope="module")
def computed(excel_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Computed]:
    from shiftwork.api.service import Service
    from shiftwork.models import CreateJobDefinition
    from tests.helpers import write_notebook

    service = Service()
    folder = tmp_path_factory.mktemp("workbook")
    notebook = write_notebook(folder / "tenfold.ipynb", "x = 1", "print(x * 10)")
    name = f"excel-workbook-{uuid.uuid4().hex[:8]}"
    definition = service.definitions.create(CreateJobDefinition(input_uri=str(notebook), name=name))
    run_id = _quotes_run(service, folder)
    path = build(folder / BOOK, name, run_id)
    client = ServerFunctions(excel_server.url, excel_server.token)
    fires = _fires(service)
    with registered(client, client.names()):
        model, first = compute(path)
        requests_first = client.requests
        job_id = value(first, BOOK, "Shiftwork", "C1")
        service.wait_job(job_id, timeout=120)  # a real kernel runs the notebook on the session's stack
        jobs = [_jobs_in_process(excel_server)]
        second = model.calculate()  # Excel's recalculation: every cell again, RUN included
        jobs.append(_jobs_in_process(excel_server))
    fires += _fires(service)
    definition_id = definition.job_definition_id
    yield Computed(path, model, first, second, client, requests_first, definition_id, name, run_id, fires, jobs)
    client.close()
    with contextlib.suppress(Exception):
        service.definitions.delete(definition.job_definition_id)


def test_every_add_in_function_reached_the_server_and_nothing_failed(computed):
    assert computed.client.failures == []
    # 4 prices, 2 nested, 1 date, 1 grid, NEXT_FIRES, RUN, RESULT, JOBS: one request each (IFERROR is Excel's)
    assert computed.requests_first == 12
    assert computed.client.requests == 2 * computed.requests_first  # the recalculation called them all again


def test_price_cells_are_what_price_option_gives_in_process(computed, pricer_module):
    for row, inputs in enumerate(PRICES[:2], start=2):
        assert value(computed.second, BOOK, "Pricer", f"G{row}") == pytest.approx(pricer_module.price_option(*inputs))
    direct = pricer_module.price_option(*PRICES[0])
    assert value(computed.second, BOOK, "Pricer", "I2") == pytest.approx(round(direct, 2) * 2)
    assert value(computed.second, BOOK, "Pricer", "I3") == pytest.approx(
        pricer_module.price_option(*PRICES[0], call=False)
    )


def test_dates_made_with_date_reach_the_function_as_dates(computed, pricer_module):
    from datetime import date

    expected = pricer_module.year_fraction(date(2027, 6, 30), date(2026, 12, 1))
    assert value(computed.second, BOOK, "Pricer", "I4") == pytest.approx(expected)


def test_a_range_formula_fills_its_range_with_the_grid(computed, pricer_module):
    grid = value(computed.second, BOOK, "Pricer", "E10:G11")
    direct = pricer_module.grid(SPOTS, 95)
    assert len(grid) == len(direct) and all(g == pytest.approx(d) for g, d in zip(grid, direct, strict=True))


def test_a_failing_call_is_the_servers_excel_error_in_its_cell(computed):
    assert value(computed.second, BOOK, "Pricer", "G4") == "#VALUE!"
    assert value(computed.second, BOOK, "Pricer", "G5") == "#NUM!"
    assert value(computed.second, BOOK, "Pricer", "I5") == "bad spot"
    messages = {(function, code, message) for function, code, message in computed.client.errors}
    assert ("PRICER.PRICE_OPTION", "#VALUE!", "spot is the text 'x': give a number") in messages
    assert ("PRICER.PRICE_OPTION", "#NUM!", "vol and expiry must be positive (vol 0.2, expiry -1)") in messages


def test_next_fires_is_the_schedule_preview_as_date_serials(computed):
    fires = value(computed.second, BOOK, "Shiftwork", "A1:A3")
    assert fires in (computed.fires_around[:3], computed.fires_around[3:])  # 09:00 London may pass in between


def test_run_gives_the_job_it_started_and_the_same_one_on_recalculation(computed):
    from shiftwork.api.service import Service
    from shiftwork.models import ListJobsQuery

    job_id = value(computed.first, BOOK, "Shiftwork", "C1")
    assert value(computed.second, BOOK, "Shiftwork", "C1") == job_id
    page = Service().list_jobs(ListJobsQuery(job_definition_id=computed.definition_id))
    assert [job.job_id for job in page.jobs] == [job_id]  # computed twice, run once
    job = Service().get_job(job_id)
    assert job.status.value == "COMPLETED" and job.parameters == {"x": 2}


def test_jobs_is_the_table_jobs_gives_in_process_with_the_run_completed(computed):
    from shiftwork.api.excel import JOB_COLUMNS

    table = value(computed.second, BOOK, "Shiftwork", f"A10:H{10 + JOBS_ROWS}")
    assert table[0] == JOB_COLUMNS
    job_id = value(computed.second, BOOK, "Shiftwork", "C1")
    row = next(r for r in table[1:] if r[0] == job_id)
    assert row[2] == "COMPLETED" and row[6] == computed.definition_id
    matching = [d for d in computed.jobs_around if table[: len(d)] == d]  # another job may end in between
    assert matching, (table, computed.jobs_around)
    # fewer completed jobs than the range has rows: Excel's (and formulas') #N/A below an array formula's result
    assert all(cell == "#N/A" for rest in table[len(matching[0]) :] for cell in rest)


def test_result_spills_the_workflow_tasks_records_as_a_table(computed, excel_server):
    from shiftwork.api.excel import spill
    from shiftwork.api.service import Service

    table = value(computed.second, BOOK, "Shiftwork", "E2:F5")
    assert table == spill(Service().workflows.result(computed.run_id, "quotes").value)
    assert table == [["strike", "price"], [90, 12.5], [95, 10.25], [100, 8.0]]
    assert table == excel_server.registry.find("SHIFTWORK.RESULT").call([computed.run_id, "quotes"])


def test_the_computed_workbook_is_written_for_a_human_to_open(computed):
    from tests.e2e.browser import artifacts_dir

    folder = artifacts_dir("excel-workbook")
    (folder / BOOK).write_bytes(computed.path.read_bytes())  # the formulas, as built
    written = computed.model.write(solution=computed.second, dirpath=str(folder / "computed"))
    (name,) = written
    values = openpyxl.load_workbook(folder / "computed" / name)["PRICER"]
    assert values["G2"].value == pytest.approx(value(computed.second, BOOK, "Pricer", "G2"))
    assert values["G4"].value == "#VALUE!"  # formulas writes an error as its text
    print(f"computed workbook: {folder / 'computed' / name}; its formulas: {folder / BOOK}")
