"""Weak held-out families of a challenge's realness model, flagged where an organizer looks: on top of its model card
(written when it is stored) and in the admin (evaluation.admin). No torch: the admin imports it."""

from __future__ import annotations

WEAK_AUC = 0.7  # a family the model tells from real music no better than this is flagged
WEAK_FAMILIES_WARNING = ("Weak: {families} (held-out ROC AUC under {limit}): the realness score barely tells these "
                         "from real music of the reference set. Add reference pieces (20 or more) and save again.")


def weak_families(metrics: dict) -> dict[str, float]:
    """The families whose held-out ROC AUC is under WEAK_AUC: {family: auc}, weakest first."""
    auc = (metrics or {}).get("auc") or {}
    return dict(sorted(((f, a) for f, a in auc.items() if a < WEAK_AUC), key=lambda item: item[1]))


def weak_families_warning(metrics: dict) -> str:
    """The sentence that flags weak families (empty when none is)."""
    weak = weak_families(metrics)
    if not weak:
        return ""
    return WEAK_FAMILIES_WARNING.format(families=", ".join(f"{f} {a:.2f}" for f, a in weak.items()), limit=WEAK_AUC)


def weak_families_card(card: str, metrics: dict) -> str:
    """The model card with the warning on top, under its title, where an organizer reads first."""
    warning = weak_families_warning(metrics)
    if not warning:
        return card
    title, _, rest = card.partition("\n")
    return f"{title}\n\n> **{warning}**\n{rest}"
