"""MODEL_CARD.md for a trained discriminator, written by train_discriminator from the measured figures (no torch)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from generation.engine.discriminator_data import FAMILIES
from generation.engine.discriminator_spec import DiscriminatorConfig, n_parameters

TARGET_AUC = 0.95

FAMILY_TEXT = {
    "random_notes": "four voices of random pitches (each in its voice's range) and random durations",
    "shuffled_pitches": "a real test chorale whose notes' pitches are permuted within each voice (rhythm kept)",
    "shuffled_bars": "a real test chorale with its bars in a random order",
    "untrained_generator": "the test chorale's soprano with alto/tenor/bass from a randomly initialised generator",
    "arcnn": "the shipped AR-CNN's output on the test chorale with 50 % of notes removed and 1 % random cells added",
}


def _arcnn_note(metrics: dict) -> str:
    """Which AR-CNN weights the arcnn row measured and which ones training saw (they differ after a re-measure)."""
    measured, trained = metrics.get("arcnn_sha256_measured"), metrics.get("arcnn_sha256_trained")
    if not measured:
        return ""
    text = f"\nThe arcnn row ran the AR-CNN checkpoint whose model.safetensors has sha256 {measured[:16]}..."
    if trained == measured:
        return text + " (the one this model was trained against).\n"
    seen = f"an earlier AR-CNN (sha256 {trained[:16]}...)" if trained else "no AR-CNN output"
    return (text + f"; training saw {seen}. Figures re-measured without retraining: "
            "`python -m generation.engine.discriminator_measure`.\n")


def write_model_card(out_dir: Path, config: DiscriminatorConfig, train_config, metrics: dict, trained_on: str) -> Path:
    rows = []
    for family, auc in metrics["auc"].items():
        verdict = ("meets" if auc >= TARGET_AUC else "below") if family in FAMILIES else "no target (a model's output)"
        rows.append(f"| {family} | {FAMILY_TEXT.get(family, '')} | {auc:.3f} | "
                    f"{metrics['mean_realness'][family]:.3f} | {verdict} |")  # fmt: skip
    if "arcnn" not in metrics["auc"]:
        rows.append("| arcnn | not measured: no shipped AR-CNN checkpoint existed when this model was trained; "
                    "retrain to include it | - | - | - |")
    low, high = train_config.transpose_range
    arcnn_note = _arcnn_note(metrics)
    config_rows = "\n".join(f"| `{k}` | {v} |" for k, v in asdict(config).items())
    text = f"""# Realness discriminator

A small CNN ({n_parameters(config):,} parameters) that gives the probability that a piece is real music of the
reference style, used by the automatic score (DESIGN section 5: realness). Trained on: {trained_on}.

## Input and output
Any MIDI: all pitched tracks are pooled into one roll on the sixteenth-note grid and split back into four voices by
rank (highest = soprano, lowest = bass); six planes (4 voices, pooled roll, onsets) x {config.window_steps} steps
({config.window_steps // 16} bars of 4/4) x 128 pitches per window, windows every {config.hop_steps} steps.
Realness = mean calibrated probability over the piece's windows. Calibration: temperature scaling fitted on the
validation split (temperature {metrics['temperature']:.3f}).

## Test-split figures ({metrics['n_test_pieces']} test chorales; each family built from each test chorale)
Real chorales' mean realness: {metrics['mean_realness']['real']:.3f}.

| family | what it is | ROC AUC | mean realness | target {TARGET_AUC} |
|---|---|---|---|---|
{chr(10).join(rows)}
{arcnn_note}
Piece-level expected calibration error (10 bins, real and corrupted pieces weighted equally): {metrics['ece']:.3f} after
temperature scaling, {metrics['ece_uncalibrated']:.3f} before.

## Training
{train_config.steps} steps of {train_config.batch_size} windows (half real train-split windows transposed
{low}..+{high} semitones, half corrupted, families in turn), AdamW lr {train_config.lr} with cosine decay,
binary cross-entropy; final loss {metrics['final_loss']:.4f}; {metrics['train_seconds']:.0f} s on a shared 2-core CPU
(one torch thread). Loss curve: loss.png. Reproduce:
`python manage.py train discriminator --steps {train_config.steps}`.

| config field | value |
|---|---|
{config_rows}

## Limits
It knows one style (the chorales, or the folder it was trained on): a challenge with its own reference set still
gets realness from this model, so music far from the chorales scores low however good it is. It sees 4-bar windows
only, so structure beyond 4 bars (form, repetition) does not count.
"""
    path = out_dir / "MODEL_CARD.md"
    path.write_text(text)
    return path
