"""The one reader of the environment for the settings: django-environ's ``Env``.

Every variable is read by name with a cast and its default: ``env.str(<name>, default=...)``, ``env.int``,
``env.float``, ``env.bool`` (1/true/yes/on/ok/y, or any non-zero number, is true), ``env.list`` (comma-separated),
``env.db`` (a database URL). A value that starts with ``$`` names another variable (django-environ's proxy); write
``\\$`` for a literal dollar sign.
"""

import environ

env = environ.Env()
env.escape_proxy = True
