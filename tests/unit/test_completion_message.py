from shiftwork.dispatch.completion import job_id_of, stopped_message
from tests.helpers import load_event


def test_job_id_comes_from_the_container_overrides():
    event = load_event("ecs_task_state_change_stopped.json", job_id="j-1", task_arn="arn:task/x")
    assert job_id_of(event["detail"]) == "j-1"


def test_the_message_carries_the_ecs_reason_and_exit_code():
    event = load_event("ecs_task_state_change_stopped.json", job_id="j-1", task_arn="arn:task/x")
    message = stopped_message(event["detail"])
    assert "Essential container in task exited" in message
    assert "exit code 137" in message
    assert "OutOfMemoryError" in message
