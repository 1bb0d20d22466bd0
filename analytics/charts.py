"""What a dashboard shows: KPI cards and charts, each chart with the table behind it.

A chart is data, not markup: categories (the x axis, or the slices), series of points, and a
unit. ``option()`` turns it into an ECharts option for static/js/analytics.js; ``table()`` into
the accessible table shown beside it and exported to CSV / XLSX. Every point carries the URL of
the records behind it (the drill-down), so a click on a bar and a click on its table cell land on
the same list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from django.utils.functional import Promise

Number = int | float | Decimal
Unit = Literal["count", "cny", "percent", "hours", "days", "score"]
Kind = Literal["bar", "stacked", "hbar", "line", "pie", "funnel"]


@dataclass(frozen=True)
class Point:
    value: Number | None
    url: str = ""


@dataclass(frozen=True)
class Series:
    name: str
    points: list[Point]
    unit: Unit | None = None  # another unit than the chart's (a rate line over counts)


@dataclass(frozen=True)
class Cell:
    value: Any
    url: str = ""
    unit: Unit | None = None


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[list[Cell]]

    def plain_rows(self) -> list[list[Any]]:
        """The values alone, for a file: numbers stay numbers."""
        return [[_plain(cell.value) for cell in row] for row in self.rows]


@dataclass(frozen=True)
class Kpi:
    key: str
    label: str | Promise
    value: Number | None
    unit: Unit = "count"
    url: str = ""
    hint: str | Promise = ""


@dataclass(frozen=True)
class Chart:
    key: str  # unique within its dashboard: the table export and action plans name it
    title: str | Promise
    kind: Kind
    categories: list[str]
    series: list[Series]
    unit: Unit = "count"
    category_label: str | Promise = ""
    note: str | Promise = ""
    custom_table: Table | None = None

    @property
    def is_empty(self) -> bool:
        return not any(point.value for series in self.series for point in series.points)

    def table(self) -> Table:
        if self.custom_table is not None:
            return self.custom_table
        headers = [str(self.category_label), *(series.name for series in self.series)]
        rows = [
            [
                Cell(category),
                *(
                    Cell(
                        series.points[index].value,
                        series.points[index].url,
                        series.unit or self.unit,
                    )
                    for series in self.series
                ),
            ]
            for index, category in enumerate(self.categories)
        ]
        return Table(headers, rows)

    def option(self) -> dict[str, Any]:
        """The ECharts option; analytics.js adds the formatters of ``unit`` (functions cannot
        travel in JSON)."""
        if self.kind in ("pie", "funnel"):
            series = self.series[0]
            data = [
                {"name": name, "value": _plain(point.value), "url": point.url}
                for name, point in zip(self.categories, series.points, strict=True)
            ]
            return {
                "unit": self.unit,
                "tooltip": {"trigger": "item"},
                "legend": {"type": "scroll", "bottom": 0},
                "series": [
                    {
                        "type": self.kind,
                        "name": series.name,
                        "data": data,
                        **(
                            {"radius": ["35%", "65%"]}
                            if self.kind == "pie"
                            else {"sort": "none", "left": "10%", "width": "70%", "gap": 2}
                        ),
                        "label": {"show": True, "formatter": "{b}: {c}"},
                    }
                ],
            }
        horizontal = self.kind == "hbar"
        category_axis = {"type": "category", "data": self.categories}
        value_axes: list[dict[str, Any]] = [{"type": "value", "unit": self.unit}]
        extra_units = [s.unit for s in self.series if s.unit not in (None, self.unit)]
        if extra_units:
            value_axes.append(
                {"type": "value", "unit": extra_units[0], "splitLine": {"show": False}}
            )
        # A series in another unit reads against a second value axis: a line over bars, or
        # bars against a second axis on top of a horizontal chart.
        second_axis = {"xAxisIndex": 1} if horizontal else {"type": "line", "yAxisIndex": 1}
        if horizontal and extra_units:
            value_axes[1]["position"] = "top"
        return {
            "unit": self.unit,
            "tooltip": {"trigger": "axis"},
            "legend": {"type": "scroll", "bottom": 0},
            "grid": {"left": "3%", "right": "4%", "top": 24, "bottom": 40, "containLabel": True},
            "xAxis": value_axes if horizontal else category_axis,
            "yAxis": category_axis if horizontal else value_axes,
            "series": [
                {
                    "type": "line" if self.kind == "line" else "bar",
                    "name": series.name,
                    "unit": series.unit or self.unit,
                    **({"stack": "total"} if self.kind == "stacked" and not series.unit else {}),
                    **(second_axis if series.unit not in (None, self.unit) else {}),
                    "data": [
                        {"value": _plain(point.value), "url": point.url} for point in series.points
                    ],
                }
                for series in self.series
            ],
        }


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, Promise):
        return str(value)
    return value


@dataclass
class Board:
    """A built dashboard: what the page renders and the cache keeps."""

    kpis: list[Kpi] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)

    def kpi(self, key: str) -> Kpi:
        return next(kpi for kpi in self.kpis if kpi.key == key)

    def chart(self, key: str) -> Chart:
        for chart in self.charts:
            if chart.key == key:
                return chart
        raise KeyError(key)
