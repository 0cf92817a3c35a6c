"""The Create page: a notebook uploaded (or picked from the inbox) gets a form of its parameters cell; Run now makes
a job that runs to COMPLETED with the values changed; Schedule makes a definition; bad input is shown under its
field and creates nothing."""

from __future__ import annotations

import uuid

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.helpers.definitions import fires_text
from dashboard.views import create as page
from shiftwork.config import ENV_API_TOKEN, ENV_API_URL
from shiftwork.models import ListJobDefinitionsQuery
from tests.dashboard.conftest import APP, RENDER_TIMEOUT
from tests.dashboard.elements import under
from tests.helpers import cell_outputs, write_notebook

PAGE = "views/create.py"
CELL = 'runs = 2\nrate = 0.5\nlabel = "plain"\nloud = False\nregions = ["eu"]'
BODY = "print(f'{label}:{runs}:{rate}:{loud}:{regions}')"


def notebook_bytes(tmp_path, name="report.ipynb", cell=CELL):
    return write_notebook(tmp_path / name, cell, BODY).read_bytes()


def uploaded(app, tmp_path, **kwargs):
    app.get("file_uploader")[0].upload(kwargs.pop("name", "report.ipynb"), notebook_bytes(tmp_path, **kwargs))
    return app.run()


@pytest.fixture(scope="module")
def ran(stack, tmp_path_factory):
    """One job made on the page from an uploaded notebook, runs = 5 and loud ticked, waited for (a real kernel)."""
    from shiftwork.api.service import Service

    with pytest.MonkeyPatch.context() as patch:
        patch.delenv(ENV_API_URL, raising=False)
        patch.delenv(ENV_API_TOKEN, raising=False)
        app = AppTest.from_file(str(APP), default_timeout=RENDER_TIMEOUT)
        app.switch_page(PAGE)
        app = uploaded(app.run(), tmp_path_factory.mktemp("create"))
        fields = [
            (w.label, w.value) for w in app.main if (getattr(w, "key", None) or "").startswith(page.PARAMETER_PREFIX)
        ]
        app.number_input(key=page.parameter_key("runs")).set_value(5)
        app.checkbox(key=page.parameter_key("loud")).check()
        app = app.button(key=page.RUN).click().run()
    assert not app.exception, app.exception
    job_id = app.success[0].value.split("(")[-1].rstrip(").")
    service = Service()
    return app, fields, service.get_job(job_id), service.wait_job(job_id, timeout=120)


def test_the_form_has_the_notebooks_parameters_with_their_types_and_defaults(ran):
    _, fields, _, _ = ran
    assert fields == [
        ("runs (int)", 2),
        ("rate (float)", 0.5),
        ("label (str)", "plain"),
        ("loud (bool)", False),
        ("regions (JSON)", '["eu"]'),
    ]


def test_run_now_runs_the_uploaded_notebook_to_completed_with_the_changed_values(ran, tmp_path):
    from shiftwork.api.service import Service

    app, _, created, finished = ran
    assert created.parameters == {"runs": 5, "loud": True}  # only what was changed
    assert created.input_filename == "report.ipynb" and created.kernel_name == "python3"
    assert finished.status.value == "COMPLETED", finished.status_message
    Service().download_job_files(created.job_id, tmp_path)
    assert "plain:5:0.5:True:['eu']\n" in cell_outputs(tmp_path / "report.ipynb")
    assert app.get("page_link")[0].proto.query_string == f"job={created.job_id}"


def test_a_bad_schedule_is_shown_beside_the_schedule_field_and_creates_nothing(open_page, stack, tmp_path):
    from shiftwork.api.service import Service

    name = f"create-bad-{uuid.uuid4().hex[:6]}"
    app = uploaded(open_page(PAGE), tmp_path)
    app = app.radio(key=page.MODE).set_value(page.ON_A_SCHEDULE).run()
    app.text_input(key=page.NAME).input(name)
    app = app.text_input(key=page.SCHEDULE).input("0 9 * * funday").run()
    app = app.button(key=page.SUBMIT_SCHEDULE).click().run()
    assert not app.exception, app.exception
    shown = under(app, page.SCHEDULE)
    assert shown.type == "error" and "funday" in shown.value
    assert not app.success
    assert not Service().definitions.list(query=ListJobDefinitionsQuery(name=name)).job_definitions


def test_a_bad_json_parameter_is_shown_under_it_and_runs_nothing(open_page, stack, tmp_path):
    from shiftwork.api.service import Service

    name = f"create-json-{uuid.uuid4().hex[:6]}"
    app = uploaded(open_page(PAGE), tmp_path)
    app.text_input(key=page.NAME).input(name)
    app.text_input(key=page.parameter_key("regions")).input("[eu")
    app = app.button(key=page.RUN).click().run()
    shown = under(app, page.parameter_key("regions"))
    assert shown.type == "error" and "parameters.regions '[eu'" in shown.value
    assert not [j for j in Service().iter_jobs() if j.name == name]


def test_over_the_api_an_inbox_notebook_is_scheduled_with_its_preview(open_remote_page, stack, tmp_path):
    from shiftwork import aws
    from shiftwork.api.service import Service
    from shiftwork.config import get_settings

    settings = get_settings()
    key = f"inbox/create-test/{uuid.uuid4().hex[:6]}.ipynb"
    body = notebook_bytes(tmp_path, cell="city = 'Oslo'")
    aws.client("s3", settings).put_object(Bucket=settings.bucket, Key=key, Body=body)
    name = f"create-inbox-{uuid.uuid4().hex[:6]}"

    app = open_remote_page(PAGE)
    app = app.radio(key=page.SOURCE).set_value(page.FROM_INBOX).run()
    app = app.selectbox(key=page.INBOX).select(key).run()
    assert app.text_input(key=page.parameter_key("city")).value == "Oslo"
    app.text_input(key=page.parameter_key("city")).input("Lima")
    app.text_input(key=page.NAME).input(name)
    app = app.radio(key=page.MODE).set_value(page.ON_A_SCHEDULE).run()
    app = app.selectbox(key=page.TIMEZONE).select("America/Lima").run()
    app = app.text_input(key=page.SCHEDULE).input("15 6 * * *").run()
    preview = Service().preview_schedule("15 6 * * *", "America/Lima", count=5)
    shown = under(app, page.SCHEDULE)
    assert shown.type == "caption" and preview.in_words in shown.value
    assert shown.value.endswith(fires_text(preview)) and "-05" in fires_text(preview)
    app = app.button(key=page.SUBMIT_SCHEDULE).click().run()
    assert not app.exception, app.exception
    made = Service().definitions.list(query=ListJobDefinitionsQuery(name=name)).job_definitions
    try:
        assert [(d.schedule, d.timezone, d.parameters) for d in made] == [
            ("15 6 * * *", "America/Lima", {"city": "Lima"})
        ]
        assert made[0].input_filename == key.rsplit("/", 1)[1]
    finally:
        for definition in made:
            Service().definitions.delete(definition.job_definition_id)
