"""``manage.py check_checkpoint PATH [--config CONFIG.json] [--load] [--json]``: validates a checkpoint the way the
platform does at upload (no torch, never unpickles); ``--load`` also builds the model and loads it strictly."""

from __future__ import annotations

from dataclasses import asdict, is_dataclass
from pathlib import Path

from django.core.management.base import BaseCommand

from generation.management.commands._output import emit, fail


class Command(BaseCommand):
    help = "Check a checkpoint (safetensors weights + JSON config) as an upload is checked."

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", type=Path, help="checkpoint folder or .safetensors file")
        parser.add_argument("--config", type=Path, help="config JSON (default: config.json beside the weights)")
        parser.add_argument("--load", action="store_true", help="also load the weights into the model (torch)")
        parser.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args, **options) -> None:
        from generation.engine.errors import EngineError
        from generation.engine.loading import check_checkpoint_files, load_checkpoint

        as_json = options["json"]
        try:
            info, meta = check_checkpoint_files(options["path"], options["config"])
            if options["load"]:
                load_checkpoint(options["path"], config_path=options["config"])
        except EngineError as exc:
            raise fail(self, as_json, exc.code, exc.message) from exc
        except OSError as exc:  # a folder where a file was expected, no permission...: one line, no traceback
            raise fail(self, as_json, "unreadable", f"Cannot read the checkpoint: {exc}") from exc
        config = asdict(info.config) if is_dataclass(info.config) else info.config
        result = {"ok": True, "architecture": info.architecture, "config": config, "tensors": info.n_tensors,
                  "parameters": info.n_parameters, "bytes": info.n_bytes, "loaded": bool(options["load"]),
                  "trained_on": meta.get("trained_on"), "metrics": meta.get("metrics", {})}
        emit(self, as_json, result, f"OK: {info.architecture} checkpoint, {info.n_tensors} tensors, "
                                    f"{info.n_parameters:,} parameters, {info.n_bytes:,} bytes")
