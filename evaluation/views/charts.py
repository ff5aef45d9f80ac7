"""The score breakdown as bars (0-1) for the chart of the submission and leaderboard pages (HTML bars: their labels
keep their size on a phone, where a scaled SVG shrank them to 6 px)."""

from __future__ import annotations

from dataclasses import dataclass

from evaluation.formula import RUBRIC

BAR_WIDTH_PX = 300
DIRECTION_TEXT = {"below": "below the range", "within": "within it", "above": "above the range"}


@dataclass(frozen=True)
class Bar:
    label: str
    fraction: float  # 0..1
    text: str
    y: int = 0

    @property
    def width(self) -> float:
        return round(BAR_WIDTH_PX * self.fraction, 1)

    @property
    def text_x(self) -> float:
        return 170 + BAR_WIDTH_PX + 8

    @property
    def percent(self) -> float:
        """The bar's length in the HTML chart (templates/evaluation/_score_chart.html), 0-100."""
        return round(100 * self.fraction, 1)


def _clamp(value) -> float:
    try:
        return min(1.0, max(0.0, float(value)))
    except (TypeError, ValueError):
        return 0.0


def score_bars(*, style: float, realness: float, parts: dict) -> list[Bar]:
    """Style and realness first, then each metric's closeness to the reference, then each judge's mean mark."""
    rows = [("style", style, f"{style:.2f}"), ("realness", realness, f"{realness:.2f}")]
    for name, metric in sorted((parts.get("metrics") or {}).items()):
        # Metrics outside the challenge's style choice ("in_style": false) are measured but do not count.
        if isinstance(metric, dict) and "closeness" in metric and metric.get("in_style", True):
            value = metric.get("value")
            shown = f"{metric['closeness']:.2f}" + (f" (value {value:.3g})" if isinstance(value, int | float) else "")
            if isinstance(value, int | float) and "p10" in metric and "direction" in metric:
                shown = (f"{metric['closeness']:.2f} (value {value:.3g}; reference 10-90 %: {metric['p10']:.3g}-"
                         f"{metric['p90']:.3g}, {DIRECTION_TEXT.get(metric['direction'], metric['direction'])})")
            rows.append((name.replace("_", " "), metric["closeness"], shown))
    for i, judge in enumerate(parts.get("judges") or [], start=1):
        marks = [judge.get(k) for k in RUBRIC if isinstance(judge.get(k), int)]
        if marks:
            mean = sum(marks) / len(marks)
            rows.append((f"judge {i}", (mean - 1) / 4, f"{mean:.1f} / 5"))
    return [
        Bar(label=label, fraction=_clamp(frac), text=text, y=4 + 22 * i) for i, (label, frac, text) in enumerate(rows)
    ]


@dataclass(frozen=True)
class PassageMark:
    """A passage to mark on the piano roll: its place as percentages of the picture's width and height."""

    left: float
    width: float
    top: float
    height: float
    label: str


def passage_marks(parts: dict) -> list[PassageMark]:
    """The lowest-realness passages of a one-piece entry (parts["realness_passages"]) placed on its piano roll
    (evaluation.pianoroll draws seconds 0..duration across AXES_BOX)."""
    from evaluation.pianoroll import AXES_BOX

    passages = parts.get("realness_passages") or {}
    duration = passages.get("duration") or 0
    if not duration or parts.get("n_outputs", 1) != 1:
        return []
    left, bottom, width, height = AXES_BOX
    marks = []
    for w in passages.get("lowest") or []:
        start, end = max(0.0, float(w["start"])), min(float(duration), float(w["end"]))
        if end <= start:
            continue
        marks.append(PassageMark(left=round(100 * (left + width * start / duration), 2),
                                 width=round(100 * width * (end - start) / duration, 2),
                                 top=round(100 * (1 - bottom - height), 2), height=round(100 * height, 2),
                                 label=f"realness {float(w['realness']):.2f}"))  # fmt: skip
    return marks
