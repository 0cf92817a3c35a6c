"""Run-after, checked when a definition is created or changed: the upstream exists, no cycle, never with a schedule."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shiftwork.dispatch.run_after import MAX_CHAIN  # chains longer than this are refused
from shiftwork.errors import InvalidSpec, NotFound
from shiftwork.models.definition import RunAfterCondition
from shiftwork.store import definitions

if TYPE_CHECKING:
    from shiftwork.models import DescribeJobDefinition, UpdateJobDefinition


def resolve_upstream(ref: str) -> DescribeJobDefinition:
    """The definition `ref` names: the one with that id, else the one with that name (exactly one)."""
    try:
        return definitions.get(ref)
    except NotFound:
        pass
    named = definitions.find_by_name(ref)
    if not named:
        raise InvalidSpec("run_after", ref, "no job definition has this id or name: see shiftwork definition list")
    if len(named) > 1:
        ids = ", ".join(sorted(d.job_definition_id for d in named)[:3])
        raise InvalidSpec("run_after", ref, f"{len(named)} job definitions have this name ({ids}...): give its id")
    return named[0]


def check_no_cycle(definition_id: str, upstream: DescribeJobDefinition) -> dict[str, int]:
    """Refuse `definition_id` running after `upstream` if upstream runs (through others) after definition_id.

    Returns the version of each definition up the chain, for the write to check they are still so.
    """
    chain = [definition_id]
    versions: dict[str, int] = {}
    current: DescribeJobDefinition | None = upstream
    while current is not None:
        chain.append(current.job_definition_id)
        if current.job_definition_id == definition_id:
            raise InvalidSpec("run_after", upstream.job_definition_id, f"makes a cycle: {' after '.join(chain)}")
        if len(chain) > MAX_CHAIN:
            raise InvalidSpec("run_after", upstream.job_definition_id, f"chains more than {MAX_CHAIN} definitions")
        versions[current.job_definition_id] = current.version
        try:
            current = definitions.get(current.run_after) if current.run_after else None
        except NotFound:
            current = None
    return versions


def checked_upstream(definition_id: str, ref: str | None, schedule: str | None) -> str | None:
    """The upstream definition's id for `ref` (None: runs after nothing), checked; an InvalidSpec if it can't be."""
    return checked_chain(definition_id, ref, schedule)[0]


def checked_chain(definition_id: str, ref: str | None, schedule: str | None) -> tuple[str | None, dict[str, int]]:
    """The upstream's id for `ref`, checked, and the versions of the chain above it that the check read."""
    if not ref:
        return None, {}
    if schedule:
        raise InvalidSpec(
            "run_after", ref, "a definition runs on a schedule or after another's job, not both: drop one"
        )
    upstream = resolve_upstream(ref)
    return upstream.job_definition_id, check_no_cycle(definition_id, upstream)


def check_deletable(definition_id: str) -> None:
    """Refuse deleting a definition others run after: they would never run again, silently."""
    downstream = definitions.downstream_of(definition_id)
    if downstream:
        raise InvalidSpec(
            "job definition",
            definition_id,
            f"{', '.join(downstream[:3])} run(s) after it: delete them or change their run_after first",
        )


def run_after_changes(current: DescribeJobDefinition, request: UpdateJobDefinition) -> dict[str, Any]:
    """What an update changes of the run-after fields (checked against its schedule); {} if nothing. With an
    upstream, "unchanged" holds the chain's versions for store.definitions.update to check in its write."""
    if request.run_after is None and request.run_after_condition is None and not request.schedule:
        return {}
    ref = current.run_after if request.run_after is None else request.run_after  # "" clears it
    upstream, chain = checked_chain(current.job_definition_id, ref, request.schedule or current.schedule)
    if upstream is None:
        if request.run_after_condition is not None:
            raise InvalidSpec("run_after_condition", str(request.run_after_condition), "needs run_after too")
        return {"run_after": None, "run_after_condition": None} if current.run_after else {}
    condition = request.run_after_condition or current.run_after_condition or RunAfterCondition.SUCCESS
    return {"run_after": upstream, "run_after_condition": RunAfterCondition(condition), "unchanged": chain}
