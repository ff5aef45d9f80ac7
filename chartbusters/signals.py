"""The platform's signals (django.dispatch): how ``chartbusters``, the lowest layer, reaches the apps above it
without importing them (docs/design.md section 2). A signal is defined here and received in a higher app, connected
from its ``AppConfig.ready()`` with a ``dispatch_uid`` (connecting twice keeps one receiver).

- ``stuck_jobs_reap``: sent by ``chartbusters.jobs.reap_stuck_jobs`` (the periodic task
  ``chartbusters.reap_stuck_jobs``) with ``sender=None``. Each receiver fails the jobs of its app stuck past their
  limits, or runs again those whose worker died, and returns their number. Receivers run in the order connected;
  one that raises does not stop the others (``send_robust``). Connect a reaping service with
  ``chartbusters.jobs.reaper``.
- ``file_read_requested``: sent by the download view's selector (``evaluation.selectors.files``) for the kinds
  ``evaluation`` does not read itself (the studio's), with ``sender=`` the ``chartbusters.files.FileKind`` member and
  ``user`` and ``token``. The receiver connected for that kind returns the ``StoredFile`` if ``user`` may read it,
  else None (then the view answers 404).
"""

from __future__ import annotations

from django.dispatch import Signal

stuck_jobs_reap = Signal()
file_read_requested = Signal()
