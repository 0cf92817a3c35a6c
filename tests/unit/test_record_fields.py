"""The records and the DTOs they are read into name the same fields: a field added to one only would be lost."""

from __future__ import annotations

import pytest

from shiftwork.models import DescribeJob, DescribeJobDefinition
from shiftwork.models.workflow import DescribeTask
from shiftwork.store.tables import DefinitionRecord, JobRecord, TaskRecord


@pytest.mark.parametrize(
    ("record", "dto"), [(JobRecord, DescribeJob), (DefinitionRecord, DescribeJobDefinition), (TaskRecord, DescribeTask)]
)
def test_a_record_stores_every_field_of_its_dto(record, dto):
    # the store's own bookkeeping: the list index's constant key, and the admission slots (store/slots.py)
    stored = set(record.get_attributes()) - {"list_pk", "holds_slot", "active_jobs"}
    assert stored == set(dto.model_fields)
