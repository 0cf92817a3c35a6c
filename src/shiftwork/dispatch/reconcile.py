"""Periodic repair of the definitions' slot counts from the jobs that hold a slot, in case a count ever drifted.

Admission and release keep each count exact (store/slots.py); this is the safety net for what no transaction
covers (a record edited by hand, a restored backup, a definition deleted and made again under the same id).
Runs every 15 minutes: on AWS from an EventBridge schedule to the completion function, in the embedded stack
from its clock.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from shiftwork.store import definitions, slots

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Drift:
    """A definition whose count disagreed with its jobs; repaired unless the count moved meanwhile."""

    job_definition_id: str
    counted: int  # what the definition's record said
    holding: int  # jobs holding a slot, from the by-definition index
    repaired: bool


def reconcile_active_counts(settle_seconds: float = 2.0) -> list[Drift]:
    """Compare every definition's count with its slot-holding jobs and set it where it drifted.

    The by-definition index is eventually consistent: a drift is counted again after settle_seconds and repaired
    only if it stayed the same, with a write conditional on the count it corrects.
    """
    drifts = []
    token = None
    while True:
        page = definitions.list_definitions(max_items=100, next_token=token)  # a Query on by-create-time, no Scan
        for definition in page.job_definitions:
            drift = _check(definition.job_definition_id, settle_seconds)
            if drift is not None:
                drifts.append(drift)
        token = page.next_token
        if not token:
            return drifts


def _check(definition_id: str, settle_seconds: float) -> Drift | None:
    counted = slots.taken(definition_id)
    holding = slots.holders(definition_id)
    if counted is None or counted == holding:
        return None
    if settle_seconds:
        time.sleep(settle_seconds)
        if slots.holders(definition_id) != holding or slots.taken(definition_id) != counted:
            return None  # jobs are starting or ending: the next run looks again
    repaired = slots.set_taken(definition_id, counted, holding)
    log.warning(
        "definition %s counted %d running jobs, %d hold a slot: %s",
        definition_id,
        counted,
        holding,
        "repaired" if repaired else "it moved meanwhile, left for the next run",
    )
    return Drift(definition_id, counted, holding, repaired)
