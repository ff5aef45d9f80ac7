"""Audio rendering moved to ``generation.engine.audio`` (torch-free, Django-free), so that the studio's generation
worker renders a job's audio without importing ``evaluation`` (docs/design.md section 2: ``generation/`` never imports
``evaluation/``). This name stays for existing callers: ``evaluation.audio`` *is* that module (same functions,
same constants, so patching either patches both)."""

import sys

from generation.engine import audio as _audio

sys.modules[__name__] = _audio
