"""MODEL_CARD.md for a trained discriminator, written by train_discriminator from the measured figures (no torch)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from generation.engine.models.discriminator.data import FAMILIES
from generation.engine.models.discriminator.spec import DiscriminatorConfig, n_parameters
from generation.engine.recombined_music import CORPUS, DERIVED
from generation.engine.recombined_music import FAMILY_TEXT as RECOMBINED_TEXT
from generation.engine.trivial_music import DERIVED_FAMILIES, SCRATCH_FAMILIES
from generation.engine.trivial_music import FAMILY_TEXT as TRIVIAL_TEXT

TARGET_AUC = 0.95

FAMILY_TEXT = {
    "random_notes": "four voices of random pitches (each in its voice's range) and random durations",
    "shuffled_pitches": "a real test chorale whose notes' pitches are permuted within each voice (rhythm kept)",
    "shuffled_bars": "a real test chorale with its bars in a random order",
    "untrained_generator": "the test chorale's soprano with alto/tenor/bass of random held notes",
    **{name: text for name, text in TRIVIAL_TEXT.items() if name != "random_notes"},
    **RECOMBINED_TEXT,
    "hill_climb": "the training's last hill-climbs (1,500 single-note changes from a parallel-harmony scale, kept "
    "when realness did not drop) against this model",
}
# every family but models' outputs has the AUC target
TARGETED = (*FAMILIES, *SCRATCH_FAMILIES, *DERIVED_FAMILIES, *DERIVED, *CORPUS, "hill_climb")


def _generated_note(metrics: dict) -> str:
    """Which generators' outputs the generated rows measured, and which ones training saw (they differ after a
    re-measure with newer shipped models)."""
    measured, trained = metrics.get("generated_measured") or {}, metrics.get("generated_trained") or {}
    if not measured:
        return ""
    lines = ["", "Generated rows (a model's output on the test piece through the generation pipeline: the melody "
                 "alone for a model that adds parts, the voices in one track for one that edits or continues it):"]
    for name, what in measured.items():
        seen = "trained against this one" if trained.get(name) == what else (
            f"training saw {trained[name]}" if name in trained else "training saw none of it")
        lines.append(f"- {name}: {what} ({seen})")
    if measured != trained:
        lines.append("Figures re-measured without retraining: `python -m generation.engine.negatives --remeasure`.")
    return "\n".join(lines) + "\n"


def _pitch_text(config: DiscriminatorConfig) -> str:
    if config.n_pitches >= 128:
        return ("Each window is read in 8 transpositions (-4..+3 semitones: one period of the network's pitch stride) "
                "and averaged.")
    return (f"Each window's pitch axis is read from its lowest sounding pitch up ({config.n_pitches} rows; higher "
            "notes fold into the top row), so the input, and realness, is the same in every key by construction.")


def write_model_card(out: Path, config: DiscriminatorConfig, train_config, metrics: dict, trained_on: str) -> Path:
    rows = []
    for family, auc in metrics["auc"].items():
        verdict = ("meets" if auc >= TARGET_AUC else "below") if family in TARGETED else "no target (a model's output)"
        what = FAMILY_TEXT.get(family) or (metrics.get("generated_measured") or {}).get(family, "")
        rows.append(f"| {family} | {what} | {auc:.3f} | "
                    f"{metrics['mean_realness'][family]:.3f} | {verdict} |")  # fmt: skip
    low, high = train_config.transpose_range
    art_low, art_high = train_config.articulation_range
    arcnn_note = _generated_note(metrics)
    weights = ", ".join(f"{name} x{w}" for name, w in train_config.family_weights.items())
    weights = f", these more often: {weights}" if weights else ""
    n_climbed = metrics.get("scorer_climb_pieces", 0)
    scorer_climbs = (f" So were {n_climbed} pieces that earlier rounds' hill-climbs against the whole automatic "
                     "score found (scorer_climb: `manage.py climb_scorer`, scorer_climbs.npz)." if n_climbed else "")
    config_rows = "\n".join(f"| `{k}` | {v} |" for k, v in asdict(config).items())
    text = f"""# Realness discriminator

A small CNN ({n_parameters(config):,} parameters) that gives the probability that a piece is real music of the
reference style, used by the automatic score (docs/design.md section 5: realness). Trained on: {trained_on}.

## Input and output
Any MIDI, read as it sounds: all pitched tracks are pooled into one roll on a grid of 8 steps a second (a sixteenth
at 120 bpm, whatever the file's tempo markings and note values say) and split back into four voices by rank
(highest = soprano, lowest = bass); six planes (4 voices, pooled roll, onsets) x {config.window_steps} steps
({config.window_steps / 8:.0f} s) x {config.n_pitches} pitch rows per window, windows every {config.hop_steps} steps.
{_pitch_text(config)} Realness = mean calibrated probability over the piece's windows. Calibration:
temperature scaling fitted on held-out pieces (temperature {metrics['temperature']:.3f}).

## Held-out figures ({metrics['n_test_pieces']} pieces the model never trained on; each family built per piece)
Real pieces' mean realness: {metrics['mean_realness']['real']:.3f}.

| family | what it is | ROC AUC | mean realness | target {TARGET_AUC} |
|---|---|---|---|---|
{chr(10).join(rows)}
{arcnn_note}
Piece-level expected calibration error (10 bins, real and corrupted pieces weighted equally): {metrics['ece']:.3f} after
temperature scaling, {metrics['ece_uncalibrated']:.3f} before.

## Training
{train_config.steps} steps of {train_config.batch_size} windows (half real training windows, half negative, one family
after another{weights}; every window transposed {low}..+{high} semitones and performed: played
{train_config.stretch_range[0]:.2f}-{train_config.stretch_range[1]:.2f}x as long, i.e. at 50-180 bpm, and
{train_config.performed_share:.0%} of them with notes sounding {art_low:.0%}-{art_high:.0%} of their
value and onsets moved up to +- {train_config.jitter_steps * 125:.0f} ms). {train_config.climbers} hill-climbs ran
against the model as it trained ({train_config.climb_tries} single-note changes a step, each climb restarted from a new
parallel-harmony scale after {train_config.climb_length}); their pieces were a negative family.{scorer_climbs} No
generator's output is a negative. AdamW lr {train_config.lr} with cosine decay,
binary cross-entropy; final loss {metrics['final_loss']:.4f}; {metrics['train_seconds']:.0f} s on a shared 2-core CPU
(one torch thread). Loss curve: loss.png. Reproduce:
`python manage.py train discriminator --steps {train_config.steps}`.

| config field | value |
|---|---|
{config_rows}

## Limits
It knows one style (the one it was trained on): music far from it scores low however good it is, which is why a
challenge with its own reference set gets its own model. It sees 8-s windows only, so structure beyond them (form,
repetition) does not count here; the style score's repetition factor covers loops. Real chords or bars put in another
order (Markov chains over chords, patchworks, shuffled bars) are mostly real music inside one window, which is why
their AUCs are the lowest; the originality check, not realness, is what catches pieces stitched from known music. A
new hill-climb against the whole automatic score may still find pieces it rates as real (benchmarks/scoring_gaming.py,
Table 1b): climb it again (`manage.py climb_scorer`) and retrain, round after round (docs/scoring.md).
"""
    path = out / "MODEL_CARD.md"
    path.write_text(text)
    return path
