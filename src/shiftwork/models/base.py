"""The base of every DTO: validators are built when a model is first used, not when it is imported, so a Lambda
handler pays only for the models its call touches (see bench/cold_start.py)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    model_config = ConfigDict(defer_build=True)
