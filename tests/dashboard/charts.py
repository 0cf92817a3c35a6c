"""Reading what a page drew, as a browser would get it: the data of its altair charts, the nodes of its DOT graphs."""

from __future__ import annotations

import re

import pandas as pd
import pyarrow as pa
from streamlit.testing.v1 import AppTest

NODE = re.compile(r'^\s*"(?P<id>(?:[^"\\]|\\.)+)" \[(?P<attributes>.*)\];$', re.MULTILINE)
ATTRIBUTE = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|[^,\s]+)')
EDGE = re.compile(r'^\s*"(?P<source>(?:[^"\\]|\\.)+)" -> "(?P<target>(?:[^"\\]|\\.)+)";$', re.MULTILINE)


def chart_frames(app: AppTest) -> list[pd.DataFrame]:
    """The data of each vega-lite (altair) chart on the page, in page order."""
    frames = []
    for chart in app.get("vega_lite_chart"):
        for dataset in chart.proto.datasets:
            frames.append(pa.ipc.open_stream(dataset.data.data).read_all().to_pandas())
    return frames


def chart_specs(app: AppTest) -> list[str]:
    return [chart.proto.spec for chart in app.get("vega_lite_chart")]


def dot_text(app: AppTest) -> str:
    (graph,) = app.get("graphviz_chart")
    return graph.proto.spec


def dot_nodes(dot: str) -> dict[str, dict[str, str]]:
    """Each node statement's id -> its attributes (quotes removed)."""
    return {
        match["id"]: {name: value.strip('"') for name, value in ATTRIBUTE.findall(match["attributes"])}
        for match in NODE.finditer(dot)
    }


def dot_edges(dot: str) -> set[tuple[str, str]]:
    return {(match["source"], match["target"]) for match in EDGE.finditer(dot)}
