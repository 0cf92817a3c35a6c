"""Task sizes: memory as users write it, rounding up to a Fargate size, the Lambda executor's limits, and cost."""

from __future__ import annotations

import itertools

import pytest
from pydantic import ValidationError

from shiftwork.errors import InvalidSpec
from shiftwork.models.resources import (
    Resources,
    check_task_resources,
    describe_rounding,
    estimate_cost,
    fargate_size,
    lambda_memory,
    parse_memory,
)
from shiftwork.models.workflow import TaskSpec

# AWS's table, written out independently of the module's: (vCPU, lowest GB, highest GB, step GB)
AWS_TABLE = [(0.25, 0.5, 0.5, 1), (0.25, 1, 2, 1), (0.5, 1, 4, 1), (1, 2, 8, 1), (2, 4, 16, 1), (4, 8, 30, 1)]
AWS_TABLE += [(8, 16, 60, 4), (16, 32, 120, 8)]
VALID = {
    (cpu, int(gb * 1024))
    for cpu, low, high, step in AWS_TABLE
    for gb in [low + step * i for i in range(int((high - low) / step) + 1)]
}
X86 = (0.04048, 0.004445)  # us-east-1 Linux/x86, per vCPU-hour and per GB-hour
ARM = (0.03238, 0.00356)


def _price(cpu: float, memory_mb: int, rates: tuple[float, float] = X86) -> float:
    return cpu * rates[0] + memory_mb / 1024 * rates[1]


@pytest.mark.parametrize(
    ("memory", "megabytes"),
    [(512, 512), ("512m", 512), ("512MB", 512), ("2g", 2048), ("1.5GiB", 1536), ("2048k", 2), ("1t", None)],
)
def test_memory_is_read_in_binary_units(memory, megabytes):
    if megabytes is None:  # 1 TB is more than any Fargate task has
        with pytest.raises(InvalidSpec, match="120 GB"):
            parse_memory(memory)
    else:
        assert parse_memory(memory) == megabytes


@pytest.mark.parametrize("memory", ["lots", "", "-1g", True, 0])
def test_unreadable_memory_is_refused_naming_the_field(memory):
    with pytest.raises(InvalidSpec) as refused:
        parse_memory(memory, field="tasks.fit.resources.memory")
    assert refused.value.field == "tasks.fit.resources.memory"


def test_all_fargate_sizes_match_aws_table():
    exact = {(cpu, memory) for cpu, memory in VALID}
    assert {(g.cpu, g.memory_mb) for g in (fargate_size(Resources(cpu=c, memory_mb=m)) for c, m in VALID)} == exact


@pytest.mark.parametrize(
    ("cpu", "memory", "granted"),
    [
        (0.3, "700m", (0.5, 1024)),  # both rounded up
        (0.25, "512m", (0.25, 512)),  # a size as it is
        (0.25, "513m", (0.25, 1024)),  # one MB over: the next step
        (0.25, "2049m", (0.5, 3072)),  # beyond 0.25 vCPU's 2 GB: more cpu, not just memory
        (1, "10g", (2, 10240)),  # 1 vCPU has at most 8 GB
        (4, "31g", (8, 32768)),  # 4 vCPU stops at 30 GB; 8 vCPU steps by 4 GB
        (8, "61g", (16, 65536)),  # 16 vCPU starts at 32 GB and steps by 8
        (16, "1g", (16, 32768)),  # 16 vCPU's least memory
        (0.01, 1, (0.25, 512)),  # the smallest size
        (16, "120g", (16, 122880)),  # the largest
    ],
)
def test_a_request_is_rounded_up_to_a_fargate_size(cpu, memory, granted):
    assert (lambda g: (g.cpu, g.memory_mb))(fargate_size(Resources(memory=memory, cpu=cpu))) == granted


@pytest.mark.parametrize("rates", [X86, ARM], ids=["x86", "arm"])
def test_rounding_picks_the_cheapest_size_that_fits(rates):
    """Over a grid of requests, no valid size that holds the request costs less than the one granted."""
    for cpu, memory_mb in itertools.product(
        [0.1, 0.25, 0.3, 0.5, 1, 1.5, 2, 3, 4, 6, 8, 12, 16], range(1, 122881, 977)
    ):
        granted = fargate_size(Resources(cpu=cpu, memory_mb=memory_mb))
        assert (granted.cpu, granted.memory_mb) in VALID
        assert granted.cpu >= cpu and granted.memory_mb >= memory_mb
        fitting = [_price(c, m, rates) for c, m in VALID if c >= cpu and m >= memory_mb]
        assert _price(granted.cpu, granted.memory_mb, rates) == min(fitting)


def test_impossible_sizes_are_refused():
    with pytest.raises(InvalidSpec, match="120 GB") as refused:
        Resources(memory="200g")
    assert refused.value.field == "memory"
    with pytest.raises(ValidationError, match="cpu"):
        Resources(cpu=32)
    unchecked = Resources.model_construct(cpu=1, memory_mb=200 * 1024)  # past the model's own limits
    with pytest.raises(InvalidSpec, match="16 vCPU with 120 GB") as refused:
        fargate_size(unchecked, field="tasks.big.resources")
    assert refused.value.field == "tasks.big.resources"


def test_rounding_is_described_only_when_it_happened():
    asked = Resources(memory="700m", cpu=0.3)
    assert describe_rounding(asked, fargate_size(asked)) == "0.3 vCPU, 700 MB -> 0.5 vCPU, 1 GB"
    exact = Resources(memory="4g", cpu=2)
    assert describe_rounding(exact, fargate_size(exact)) is None


@pytest.mark.parametrize(
    ("memory", "shown"), [(700, "700 MB"), (1024, "1 GB"), (2560, "2.5 GB"), (2100, "2100 MB"), (20000, "20000 MB")]
)
def test_a_size_is_described_as_a_user_would_write_it(memory, shown):
    assert Resources(memory=memory, cpu=2).describe() == f"2 vCPU, {shown}"


def test_a_bad_task_in_a_posted_spec_is_refused_with_the_task_field():
    """The REST API turns pydantic's error into this InvalidSpec (a 400 naming the field): the task's own check."""
    from shiftwork.models.limits import as_invalid_spec
    from shiftwork.models.workflow import WorkflowSpec

    spec = {"name": "flow", "function": "m:flow", "module_file": "m.py"}
    spec["tasks"] = [{"name": "report", "kind": "notebook", "notebook": "r.ipynb", "executor": "lambda"}]
    with pytest.raises(ValidationError) as refused:
        WorkflowSpec.model_validate(spec)
    error = as_invalid_spec(refused.value)
    assert (error.field, error.value) == ("tasks.report.executor", "lambda")


@pytest.mark.parametrize(
    ("cpu", "memory", "megabytes"),
    [(0.25, "512m", 512), (0.01, 1, 128), (1, "512m", 1769), (2, "1g", 3538), (0.25, "10g", 10240)],
)
def test_lambda_gives_cpu_through_memory(cpu, memory, megabytes):
    assert lambda_memory(Resources(memory=memory, cpu=cpu)) == megabytes


@pytest.mark.parametrize(("cpu", "memory"), [(6, "1g"), (0.25, "10241m"), (1, "16g")])
def test_lambda_refuses_what_it_cannot_give(cpu, memory):
    with pytest.raises(InvalidSpec, match="executor='fargate'") as refused:
        check_task_resources("fit", Resources(memory=memory, cpu=cpu), "lambda", None, "function")
    assert refused.value.field == "tasks.fit.resources"


def test_a_task_spec_is_checked_against_its_executor():
    TaskSpec(name="light", function="m:f", executor="lambda", timeout_seconds=900, resources=Resources(memory="10g"))
    TaskSpec(name="heavy", function="m:f", timeout_seconds=86400, resources=Resources(memory="100g", cpu=16))
    cases = [
        ({"function": "m:f", "executor": "lambda", "timeout_seconds": 901}, "tasks.t.timeout_seconds", "900 s"),
        ({"kind": "notebook", "notebook": "a.ipynb", "executor": "lambda"}, "tasks.t.executor", "container"),
        ({"function": "m:f", "executor": "lambda", "resources": {"memory_mb": 12288}}, "tasks.t.resources", "10240"),
    ]
    for fields, field, fix in cases:
        with pytest.raises(ValidationError) as refused:  # pydantic wraps the InvalidSpec the validator raised
            TaskSpec.model_validate({"name": "t", **fields})
        error = refused.value.errors()[0]["ctx"]["error"]
        assert isinstance(error, InvalidSpec) and error.field == field and fix in error.fix


def test_fargate_cost_is_per_second_with_a_one_minute_minimum():
    one_vcpu_2gb_hour = 0.04048 + 2 * 0.004445
    size = Resources(memory="2g", cpu=1)
    assert estimate_cost(size, "fargate", 3600) == pytest.approx(one_vcpu_2gb_hour)
    assert estimate_cost(size, "fargate", 1) == pytest.approx(one_vcpu_2gb_hour / 60)  # billed as a minute
    assert estimate_cost(size, "fargate", 60) == estimate_cost(size, "fargate", 0.5)
    assert estimate_cost(size, "fargate", 61) == pytest.approx(one_vcpu_2gb_hour * 61 / 3600)
    assert estimate_cost(size, "fargate", 60.2) == estimate_cost(size, "fargate", 61)  # whole seconds, up
    arm = estimate_cost(size, "fargate", 3600, arch="arm")
    assert arm == pytest.approx(0.03238 + 2 * 0.00356)


def test_fargate_cost_is_of_the_granted_size():
    assert estimate_cost(Resources(memory="700m", cpu=0.3), "fargate", 3600) == pytest.approx(
        0.5 * 0.04048 + 1 * 0.004445
    )


def test_lambda_cost_is_gb_seconds_and_a_request():
    one_gb = Resources(memory="1g")
    assert estimate_cost(one_gb, "lambda", 10) == pytest.approx(10 * 0.0000166667 + 0.0000002)
    assert estimate_cost(one_gb, "lambda", 0.0011) == pytest.approx(0.002 * 0.0000166667 + 0.0000002)  # per ms
    one_vcpu = Resources(memory="128m", cpu=1)  # billed for the 1769 MB that give it its vCPU
    assert estimate_cost(one_vcpu, "lambda", 1, arch="arm") == pytest.approx(1769 / 1024 * 0.0000133334 + 2e-7)


@pytest.mark.parametrize(
    ("executor", "seconds", "arch", "field"),
    [("batch", 1, "x86", "executor"), ("fargate", -1, "x86", "seconds"), ("fargate", 1, "mips", "arch")],
)
def test_cost_of_something_unknown_is_refused(executor, seconds, arch, field):
    with pytest.raises(InvalidSpec) as refused:
        estimate_cost(Resources(), executor, seconds, arch=arch)
    assert refused.value.field == field
