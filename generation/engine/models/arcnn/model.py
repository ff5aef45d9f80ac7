"""AR-CNN: a U-Net that looks at a piano roll (one voice, or several merged) and says which cells are wrong.

DeepComposer's AR-CNN (reference: aws-deepcomposer-samples/ar-cnn) is trained on corrupted rolls: some of the notes of
a real roll are removed and a few random cells are added; the target is the set of cells that differ (XOR), and the
loss is KL(target / sum || softmax over the roll). At inference, the sampler (arcnn_sampler.py) flips one sampled
cell per iteration, so the roll walks back towards something that looks like Bach.

Differences from the reference, each for a reason:
- the softmax spans one sample's roll, not the whole batch (the reference's spans the batch, which mixes samples);
- a narrow U-Net (8 channels at full resolution, ~1.3 M parameters instead of ~31 M, no BatchNorm) so that it
  trains in half an hour and 100 iterations on 8 bars take well under a second on 2 CPU cores;
- an extra input plane with each row's pitch, so the net can tell far-off random cells from the melody's register;
- fully convolutional over time: a 32-bar roll is one forward pass.

Shapes: B batch, T time steps (a multiple of 2**levels), P = 128 pitches. Rolls are (B, T, P); the network sees them
as images (B, C, T, P).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from generation.engine.models.arcnn.spec import ARCNNConfig, in_channels, level_channels

__all__ = ["ARCNN", "ARCNNConfig", "arcnn_loss", "make_edit_pairs", "make_training_pairs"]


class ConvBlock(nn.Sequential):
    """(3x3 conv [-> BatchNorm] -> ReLU) x n. Shapes (B, c_in, H, W) -> (B, c_out, H, W)."""

    def __init__(self, c_in: int, c_out: int, n_convs: int, batch_norm: bool) -> None:
        layers: list[nn.Module] = []
        for i in range(n_convs):
            layers.append(nn.Conv2d(c_in if i == 0 else c_out, c_out, 3, padding=1, bias=not batch_norm))
            if batch_norm:
                layers.append(nn.BatchNorm2d(c_out))
            layers.append(nn.ReLU(inplace=True))
        super().__init__(*layers)


class ARCNN(nn.Module):
    def __init__(self, config: ARCNNConfig) -> None:
        super().__init__()
        self.config = config
        channels = level_channels(config)  # e.g. [8, 16, 32, 64, 128, 128]
        n, bn = config.convs_per_level, config.batch_norm
        self.down = nn.ModuleList(
            ConvBlock(in_channels(config) if level == 0 else channels[level - 1], c, n, bn)
            for level, c in enumerate(channels)
        )
        self.up = nn.ModuleList(
            nn.ConvTranspose2d(channels[level + 1], channels[level], 2, stride=2) for level in range(config.levels)
        )
        self.dec = nn.ModuleList(
            ConvBlock(2 * channels[level], channels[level], n, bn) for level in range(config.levels)
        )
        self.head = nn.Conv2d(channels[0], 1, 1)

    def forward(self, rolls: torch.Tensor) -> torch.Tensor:
        """rolls (B, T, P) float or bool, T a multiple of 2**levels -> logits (B, T, P), one per cell."""
        x = rolls.float().unsqueeze(1)  # (B, 1, T, P)
        if self.config.pitch_channel:
            n_pitches = x.shape[-1]
            pitch = torch.linspace(-1.0, 1.0, n_pitches, device=x.device).expand_as(x)  # (B, 1, T, P)
            x = torch.cat([x, pitch], dim=1)  # (B, 2, T, P)
        skips = []
        for level, block in enumerate(self.down):
            if level > 0:
                x = F.max_pool2d(x, 2)  # (B, c, T / 2**level, P / 2**level)
            x = block(x)
            skips.append(x)
        for level in reversed(range(self.config.levels)):
            x = self.up[level](x)  # (B, c_level, T / 2**level, P / 2**level)
            x = self.dec[level](torch.cat([x, skips[level]], dim=1))
        return self.head(x).squeeze(1)  # (B, T, P)


def arcnn_loss(logits: torch.Tensor, target: torch.Tensor, stop: bool = False) -> torch.Tensor:
    """Mean over samples of KL(target / sum(target) || softmax(logits)), each softmax over ONE sample's whole roll.

    logits (B, T, P); target (B, T, P) 0/1 (the cells to flip). KL = sum_i p_i (log p_i - log q_i), 0 log 0 = 0.
    stop: the softmax also holds a "nothing to change" outcome with logit 0, the whole target of a sample whose
    target is empty; without it, such a sample contributes 0.
    """
    batch = logits.shape[0]
    flat = logits.reshape(batch, -1).float()
    t = target.reshape(batch, -1).float()
    if stop:
        flat = torch.cat([flat, flat.new_zeros(batch, 1)], dim=1)  # (B, T*P + 1)
        t = torch.cat([t, (t.sum(dim=1, keepdim=True) == 0).float()], dim=1)
    log_q = F.log_softmax(flat, dim=1)
    counts = t.sum(dim=1, keepdim=True)  # (B, 1)
    p = t / counts.clamp(min=1.0)
    log_p = torch.log(p.clamp(min=1e-30))
    per_sample = (p * (log_p - log_q)).sum(dim=1)  # (B,)
    return per_sample.mean()


def _choose_cells(candidates: torch.Tensor, fraction: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """Pick exactly n - floor(n * (1 - fraction)) random cells among the n `candidates` of each sample (the reference
    leaves floor(n * (1 - fraction)) unchosen). candidates (B, N) bool; fraction (B,) in [0, 1] -> chosen (B, N) bool.
    """
    scores = torch.rand(candidates.shape, generator=generator, device=candidates.device)
    scores = scores.masked_fill(~candidates, 2.0)  # non-candidates sort last
    counts = candidates.sum(dim=1)
    n_chosen = counts - torch.floor(counts * (1.0 - fraction) + 1e-6).long()  # (B,)
    ordered = scores.sort(dim=1).values
    threshold = ordered.gather(1, (n_chosen - 1).clamp(min=0).unsqueeze(1))  # (B, 1): the n_chosen-th lowest score
    return candidates & (scores <= threshold) & (n_chosen > 0).unsqueeze(1)


def make_training_pairs(
    rolls: torch.Tensor,
    *,
    remove_pct: tuple[float, float] = (0.0, 100.0),
    add_pct: tuple[float, float] = (1.0, 1.5),
    generator: torch.Generator | None = None,
    span_rows: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Corrupt clean rolls the way the reference does; return (corrupted, target) with target = corrupted XOR clean.

    rolls (B, T, P) bool. Per sample: remove an integer percentage, uniform in remove_pct, of the note cells; add a
    percentage, uniform in add_pct, of the empty cells at random. Both (B, T, P) bool. span_rows (B,) bool, optional:
    those samples add a percentage of the empty cells between their lowest and highest sounding pitch, placed there
    (random cells inside a merged chord texture, as the merged quality benchmark corrupts them).
    """
    batch = rolls.shape[0]
    clean = rolls.bool().reshape(batch, -1)  # (B, N)
    low, high = remove_pct
    remove_int = torch.randint(int(low), int(high) + 1, (batch,), generator=generator, device=clean.device)
    remove_frac = remove_int.float() / 100.0  # integer percentages, as the reference's random_integers
    add_frac = (add_pct[0] + (add_pct[1] - add_pct[0]) * torch.rand(batch, generator=generator, device=clean.device))
    removed = _choose_cells(clean, remove_frac, generator)
    candidates = ~clean
    if span_rows is not None and bool(span_rows.any()):
        sounding = rolls.bool().any(dim=1)  # (B, P)
        pitch = torch.arange(rolls.shape[2], device=clean.device)
        low = torch.where(sounding, pitch, rolls.shape[2]).min(dim=1).values  # (B,)
        high = torch.where(sounding, pitch, -1).max(dim=1).values
        in_span = (pitch >= low[:, None]) & (pitch <= high[:, None])  # (B, P)
        allowed = in_span | ~span_rows.to(clean.device)[:, None]  # other rows: every pitch
        candidates = candidates & allowed[:, None, :].expand(rolls.shape).reshape(batch, -1)
    added = _choose_cells(candidates, add_frac / 100.0, generator)
    corrupted = (clean & ~removed) | added
    target = corrupted ^ clean
    return corrupted.reshape(rolls.shape), target.reshape(rolls.shape)


def note_ids(rolls: torch.Tensor, onsets: torch.Tensor | None = None) -> torch.Tensor:
    """(B, T, P) bool (+ onsets) -> (B, T, P) long: each note cell's note number within its pitch row (1, 2, ...),
    a note being a run of cells split at `onsets` (re-struck notes stay apart); empty cells hold their row's last
    note number (mask them with `rolls`)."""
    rolls = rolls.bool()
    previous = torch.zeros_like(rolls)
    previous[:, 1:] = rolls[:, :-1]
    starts = rolls & ~previous
    if onsets is not None:
        starts |= rolls & onsets.bool()
    return starts.long().cumsum(dim=1)


def remove_whole_notes(rolls: torch.Tensor, onsets: torch.Tensor | None, fraction: torch.Tensor,
                       generator: torch.Generator | None = None) -> torch.Tensor:
    """Each note of each sample removed whole with probability fraction[b]. (B, T, P) bool -> (B, T, P) bool."""
    ids = note_ids(rolls, onsets)  # (B, T, P), values 0..T
    u = torch.rand((rolls.shape[0], rolls.shape[1] + 1, rolls.shape[2]), generator=generator, device=rolls.device)
    keep = u.gather(1, ids) >= fraction.to(rolls.device)[:, None, None]  # one draw per note
    return rolls.bool() & keep


def span_mask(rolls: torch.Tensor) -> torch.Tensor:
    """(B, T, P) -> (B, P) bool: the pitches between each sample's lowest and highest sounding pitch."""
    sounding = rolls.bool().any(dim=1)  # (B, P)
    pitch = torch.arange(rolls.shape[2], device=rolls.device)
    low = torch.where(sounding, pitch, rolls.shape[2]).min(dim=1).values  # (B,)
    high = torch.where(sounding, pitch, -1).max(dim=1).values
    return (pitch >= low[:, None]) & (pitch <= high[:, None])


def add_short_notes(clean: torch.Tensor, fraction: torch.Tensor, generator: torch.Generator | None = None,
                    max_len: int = 4) -> torch.Tensor:
    """(B, T, P) bool -> (B, T, P) bool cells of random notes 1..max_len steps long, about fraction[b] of each
    sample's empty cells within its pitch span, every cell empty in `clean` (each one a wrong note)."""
    clean = clean.bool()
    free = ~clean & span_mask(clean)[:, None, :]  # (B, T, P)
    mean_len = (max_len + 1) / 2
    p_start = (fraction.to(clean.device) / mean_len)[:, None, None]
    starts = free & (torch.rand(clean.shape, generator=generator, device=clean.device) < p_start)
    lengths = torch.randint(1, max_len + 1, clean.shape, generator=generator, device=clean.device)
    current = starts
    current_len = torch.where(starts, lengths, 0)  # each note's length, carried along its cells
    added = starts.clone()
    for k in range(1, max_len):  # extend each note one step at a time until its length or a cell that is not free
        shifted, shifted_len = torch.zeros_like(current), torch.zeros_like(current_len)
        shifted[:, 1:], shifted_len[:, 1:] = current[:, :-1], current_len[:, :-1]
        current = shifted & free & (shifted_len > k)
        current_len = torch.where(current, shifted_len, 0)
        added |= current
    return added


NOTES, VOICES, CELLS = 0, 1, 2  # the three kinds of training pair of make_edit_pairs


def make_edit_pairs(
    voices: torch.Tensor,
    onsets: torch.Tensor,
    kinds: torch.Tensor,
    *,
    remove_pct: tuple[float, float] = (0.0, 100.0),
    add_pct: tuple[float, float] = (0.5, 1.5),
    keep_voice: float = 0.3,
    voice_span: float = 0.0,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Training pairs on merged rolls, the corruptions a user's input resembles. Returns (corrupted, target), both
    (B, T, P) bool, target = corrupted XOR clean, clean = the voices OR-ed into one roll.

    voices, onsets (B, V, T, P) bool, voice 0 the melody; kinds (B,) long, per sample:
    - NOTES: each note removed whole with a probability uniform in remove_pct, then short random notes (1-4 steps)
      on a fraction uniform in add_pct (%) of the empty cells within the pitch span (the note-level benchmark's
      corruption, at every strength);
    - VOICES: the melody kept, each other voice kept with probability `keep_voice`, the rest removed (a tune whose
      harmony is missing) whole or, with probability `voice_span`, over a random span of at least a bar (a tune
      harmonized in places), then short random notes on up to half of add_pct; the target holds the real notes
      of the removed voices, so the model learns to add what Bach wrote under that melody;
    - CELLS: the reference's cell-level corruption (make_training_pairs, random cells within the span): states with
      notes cut short, as the sampler passes through while it writes a note cell by cell.
    """
    voices, onsets = voices.bool(), onsets.bool()
    batch, device = voices.shape[0], voices.device
    clean = voices.any(dim=1)  # (B, T, P)
    merged_onsets = (onsets & voices).any(dim=1)

    def uniform(bounds: tuple[float, float]) -> torch.Tensor:
        return bounds[0] + (bounds[1] - bounds[0]) * torch.rand(batch, generator=generator, device=device)

    removal = uniform(remove_pct) / 100.0
    additions = uniform(add_pct) / 100.0
    kept = torch.rand(voices.shape[:2], generator=generator, device=device) < keep_voice  # (B, V)
    kept[:, 0] = True
    # a removed voice goes whole, or (with probability voice_span) only over a random span of at least a bar
    n_steps = voices.shape[2]
    span_len = torch.randint(16, max(n_steps, 17), voices.shape[:2], generator=generator, device=device)
    span_start = (torch.rand(voices.shape[:2], generator=generator, device=device)
                  * (n_steps - span_len).clamp(min=0)).long()
    whole = torch.rand(voices.shape[:2], generator=generator, device=device) >= voice_span
    step = torch.arange(n_steps, device=device)
    gone = (step >= span_start[:, :, None]) & (step < (span_start + span_len)[:, :, None])  # (B, V, T)
    gone = (gone | whole[:, :, None]) & ~kept[:, :, None]
    melody_only = (voices & ~gone[:, :, :, None]).any(dim=1)
    corrupted = torch.where((kinds == VOICES)[:, None, None], melody_only,
                            remove_whole_notes(clean, merged_onsets, removal, generator))
    additions = torch.where(kinds == VOICES, additions * torch.rand(batch, generator=generator, device=device) / 2,
                            additions)
    corrupted = corrupted | add_short_notes(clean, additions, generator)
    cells = kinds == CELLS
    if bool(cells.any()):
        pairs = make_training_pairs(clean[cells], remove_pct=remove_pct, add_pct=add_pct, generator=generator,
                                    span_rows=torch.ones(int(cells.sum()), dtype=torch.bool))
        corrupted[cells] = pairs[0]
    return corrupted, corrupted ^ clean


def build_model(config: ARCNNConfig | dict | None = None) -> ARCNN:
    """The registry's `build_model`: a fresh (untrained) ARCNN from a config or its dict."""
    from generation.engine.models.arcnn.spec import config_from_dict

    if config is None:
        config = ARCNNConfig()
    elif isinstance(config, dict):
        config = config_from_dict(config)
    return ARCNN(config)
