"""The muspy metrics a challenge's style score may use (docs/design.md section 5). Plain Python: no Django, no muspy."""

METRIC_NAMES: tuple[str, ...] = (
    "pitch_range",
    "n_pitches_used",
    "n_pitch_classes_used",
    "polyphony",
    "polyphony_rate",
    "pitch_in_scale_rate",
    "scale_consistency",
    "pitch_entropy",
    "pitch_class_entropy",
    "empty_beat_rate",
    "groove_consistency",
    "empty_measure_rate",
)
