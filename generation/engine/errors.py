"""Engine errors: each carries a machine-readable ``code`` and a sentence a person can act on (no torch, no Django)."""

from __future__ import annotations


class EngineError(Exception):
    """Base class. ``code`` is stable (APIs map it to JSON errors); ``message`` names the limit and the value found."""

    code: str = "engine_error"

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return self.message


class MidiValidationError(EngineError):
    """Codes: not_midi, too_large, too_many_notes, too_long, no_notes."""


class ParamError(EngineError):
    """Codes: unknown_param, param_out_of_range, bad_param_value, unknown_model."""


class CheckpointError(EngineError):
    """Codes: bad_header, bad_config, shape_mismatch, dtype_mismatch, missing_tensor, unexpected_tensor, not_finite,
    too_large, pickle_refused, unknown_architecture, not_found."""


class DatasetError(EngineError):
    """Codes: no_usable_midi, not_a_folder."""


class ArchitectureUnavailableError(EngineError):
    """Codes: not_available (architecture known by name but not implemented yet), no_checkpoint."""


class GenerationTimeoutError(EngineError):
    """Code: time_limit (a sampler ran past the limit it was given)."""
