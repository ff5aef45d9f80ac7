"""``manage.py train {gan|arcnn|transformer|discriminator} [--data DIR] [--steps N] [--param NAME=VALUE ...]
[--out DIR] [--device cpu|cuda] [--json]``: dispatches to the architecture's train function through the registry.
``--param`` sets a training parameter of the model's TRAIN_PARAMS, the same the studio's Train page offers. The
options are the trainers' arguments (generation.engine.training): ``data``, ``steps``, ``out``, ``device``; a
``--device cuda`` on a machine without a GPU is refused there (``no_cuda``) before any data is read."""

from __future__ import annotations

import time
from pathlib import Path

from django.core.management.base import BaseCommand

from generation.management.commands._output import emit, fail

NOT_A_FOLDER_MESSAGE = "--data must be a folder of MIDI files; {path} is not a folder."
BAD_STEPS_MESSAGE = "--steps must be at least 1; got {steps}."


class Command(BaseCommand):
    help = "Train a model on the Bach chorales (or --data: a folder of your own MIDI files) and write a checkpoint."

    def add_arguments(self, parser) -> None:
        parser.add_argument("model", help="gan | arcnn | transformer | discriminator")
        parser.add_argument("--data", type=Path, help="folder of MIDI files to train on instead of the chorales")
        parser.add_argument("--steps", type=int, help="training steps (default: the architecture's)")
        parser.add_argument("--param", action="append", metavar="NAME=VALUE",
                            help="a training parameter, as on the Train page (steps, learning_rate, batch_size, "
                                 "start, model_size, seed); repeat for several")
        parser.add_argument("--style", help="GAN only: the corpus and shipped checkpoint to train (chorale | "
                                            "renaissance; default chorale)")
        parser.add_argument("--out", type=Path, help="checkpoint folder (default: the shipped checkpoint's folder; "
                                                     "with --data: ./<model>-<folder>-checkpoint)")
        parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
        parser.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args, **options) -> None:
        from generation.engine.errors import EngineError
        from generation.engine.params import parse_param_args
        from generation.engine.registry import get_spec
        from generation.engine.runs import default_out_dir, train_model, train_options

        as_json, name = options["json"], options["model"]
        data: Path | None = options["data"]
        if data is not None and not data.is_dir():
            raise fail(self, as_json, "not_a_folder", NOT_A_FOLDER_MESSAGE.format(path=data))
        if options["steps"] is not None and options["steps"] < 1:
            raise fail(self, as_json, "bad_steps", BAD_STEPS_MESSAGE.format(steps=options["steps"]))
        try:
            get_spec(name)
            params = parse_param_args(options["param"]) if options["param"] else None
            if params is not None:
                train_options(name, params)  # refuse bad parameters before loading any data
            default_out_dir(name, options["style"])  # and a bad --style
        except EngineError as exc:
            raise fail(self, as_json, exc.code, exc.message) from exc
        out = options["out"]
        if out is None and data is not None:
            out = Path.cwd() / f"{name}-{data.name}-checkpoint"
        started = time.perf_counter()
        try:
            metrics = train_model(name, data=data, steps=options["steps"], out=out, device=options["device"],
                                  params=params, style=options["style"])
        except EngineError as exc:
            raise fail(self, as_json, exc.code, exc.message) from exc
        elapsed = time.perf_counter() - started
        if out is None:
            out = default_out_dir(name, options["style"])
        result = {"model": name, "out": str(out), "data": str(data) if data else "chorales",
                  "metrics": metrics or {}, "elapsed_s": round(elapsed, 1)}
        emit(self, as_json, result, f"trained {name} in {elapsed:.1f} s; checkpoint in {out}")
