"""Local development and the demo: DEBUG on unless DEBUG=0 is set."""

import os

os.environ.setdefault("DEBUG", "1")

from chartbusters.settings.base import *  # noqa: F403
