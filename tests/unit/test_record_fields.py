"""The records and the DTOs they are read into name the same fields: a field added to one only would be lost."""

from __future__ import annotations

import pytest

from shiftwork.models import DescribeJob, DescribeJobDefinition
from shiftwork.store.tables import DefinitionRecord, JobRecord


@pytest.mark.parametrize(("record", "dto"), [(JobRecord, DescribeJob), (DefinitionRecord, DescribeJobDefinition)])
def test_a_record_stores_every_field_of_its_dto(record, dto):
    stored = set(record.get_attributes()) - {"list_pk"}  # the constant that keys the list index
    assert stored == set(dto.model_fields)
