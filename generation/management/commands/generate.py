"""``manage.py generate {gan|arcnn|transformer} IN.mid -o OUT.mid [--checkpoint PATH] [--param NAME=VALUE ...]
[--seed N] [--json]`` (docs/design.md section 7). The GAN also runs with no input file: it writes its own soprano
(``--param melody=generate``, ``bars``, ``key``)."""

from __future__ import annotations

import time
from pathlib import Path

from django.core.management.base import BaseCommand

from generation.management.commands._output import emit, fail

FILE_NOT_FOUND_MESSAGE = "No such file: {path}"
NO_INPUT_MESSAGE = "{model} needs an input MIDI file."


class Command(BaseCommand):
    help = "Generate music from a MIDI file with a model (the shipped checkpoint, or --checkpoint)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("model", help="gan | arcnn | transformer")
        parser.add_argument("input", type=Path, nargs="?",
                            help="input MIDI file (optional for a model that writes without one: the GAN writes "
                                 "its own soprano then)")
        parser.add_argument("-o", "--output", type=Path, required=True, help="output MIDI file")
        parser.add_argument("--checkpoint", type=Path, help="checkpoint folder or .safetensors (config.json beside)")
        parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                            help="model parameter (docs/design.md section 4), repeatable")
        parser.add_argument("--seed", help="random seed (same seed + input = same output)")
        parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
        parser.add_argument("--threads", type=int, default=1,
                            help="torch CPU threads (default 1: on a shared CPU, 2 OpenMP threads can run ~50x slower "
                                 "than 1 for this batch-1 sampling)")
        parser.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args, **options) -> None:
        from generation.engine.errors import EngineError
        from generation.engine.midi_io import load_midi_with_info, validate_midi_bytes, write_midi
        from generation.engine.params import parse_param_args
        from generation.engine.pipeline import generate
        from generation.engine.registry import get_generator_spec

        as_json = options["json"]
        path: Path = options["input"]
        try:
            spec = get_generator_spec(options["model"])  # an unknown or unavailable model is the first thing to say
        except EngineError as exc:
            raise fail(self, as_json, exc.code, exc.message) from exc
        if path is None and not getattr(spec, "WRITES_WITHOUT_INPUT", False):
            raise fail(self, as_json, "no_input", NO_INPUT_MESSAGE.format(model=options["model"]))
        if path is not None and not path.is_file():
            raise fail(self, as_json, "not_found", FILE_NOT_FOUND_MESSAGE.format(path=path))
        import pretty_midi
        import torch

        torch.set_num_threads(max(1, options["threads"]))
        started = time.perf_counter()
        try:
            raw = parse_param_args(options["param"])
            if options["seed"] is not None:
                raw["seed"] = options["seed"]
            pm, n_in = (pretty_midi.PrettyMIDI(), 0) if path is None else load_midi_with_info(path)
            n_in = n_in if path is None else n_in.n_notes
            result = generate(options["model"], pm, raw, checkpoint=options["checkpoint"],
                                   device=options["device"])
            out = write_midi(result.midi, options["output"])
            out_info = validate_midi_bytes(out.read_bytes())
        except EngineError as exc:
            raise fail(self, as_json, exc.code, exc.message) from exc
        elapsed = time.perf_counter() - started
        summary = {
            "model": options["model"], "input": str(path) if path else None, "output": str(out),
            "params": result.params,
            "seed": result.seed, "input_notes": n_in, "output_notes": out_info.n_notes,
            "seconds": round(out_info.seconds, 3), "tempo_bpm": out_info.tempo_bpm,
            "time_signature": list(out_info.time_signature), "elapsed_s": round(elapsed, 3),
            "adjustments": result.adjustments,
        }
        emit(self, as_json, summary,
             f"wrote {out}: {out_info.n_notes} notes ({n_in} in), seed {result.seed}, {elapsed:.2f} s"
             + "".join(f"\n{sentence}" for sentence in result.adjustments))
