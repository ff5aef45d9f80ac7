"""Settings shared by every environment, read from the environment with django-environ (``settings/environment.py``).

With nothing set, Chartbusters runs on the embedded default: SQLite, a filesystem Celery transport that
needs no server, and media under ``var/``. Set DATABASE_URL and CELERY_BROKER_URL to scale out. Importing the
settings has no side effects: the folders the embedded default writes to are created where they are first needed
(``chartbusters/folders.py``).
"""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

from chartbusters.settings.environment import env

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env.str("CHARTBUSTERS_VAR_DIR", default=str(BASE_DIR / "var")))

DEFAULT_SECRET_KEY = "insecure-chartbusters-dev-key-do-not-use-in-production"
SECRET_KEY_REFUSED = (
    "SECRET_KEY is the built-in development key while DEBUG is off; "
    "set the SECRET_KEY environment variable to a long random value."
)


def check_secret_key(secret_key: str, debug: bool) -> None:
    """Refuse to start with the development key when DEBUG is off."""
    if not debug and secret_key == DEFAULT_SECRET_KEY:
        raise ImproperlyConfigured(SECRET_KEY_REFUSED)


DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default=DEFAULT_SECRET_KEY)
ALLOWED_HOSTS = [host.strip() for host in env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from our static files: the docs need no CDN
    "chartbusters.accounts",
    "chartbusters.challenges",
    "submissions",
    "evaluation",
    "generation",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "chartbusters.api.middleware.ApiNotFoundJsonMiddleware",  # JSON 404s under /api/ with DEBUG on too
]

ROOT_URLCONF = "chartbusters.urls"
WSGI_APPLICATION = "chartbusters.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'chartbusters.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
# The SQLite file's folder is created where it is first needed (chartbusters/folders.py), not here.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # Web and worker share one file: wait for the lock rather than fail.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 30, "transaction_mode": "IMMEDIATE"})
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "challenges:list"
LOGOUT_REDIRECT_URL = "challenges:list"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
# Nothing under MEDIA_ROOT is served directly: /files/<kind>/<uuid>/ checks access, then Django streams the file
# ("django") or hands it to the web server ("x-accel-redirect": nginx, from an `internal` location at the prefix;
# "x-sendfile": Apache mod_xsendfile or lighttpd). docs/operations.md "Files".
CHARTBUSTERS_FILE_SERVING = env.str("CHARTBUSTERS_FILE_SERVING", default="django")
CHARTBUSTERS_FILE_INTERNAL_PREFIX = env.str("CHARTBUSTERS_FILE_INTERNAL_PREFIX", default="/protected-media/")
if CHARTBUSTERS_FILE_SERVING not in ("django", "x-accel-redirect", "x-sendfile"):
    raise ImproperlyConfigured(
        f"CHARTBUSTERS_FILE_SERVING is {CHARTBUSTERS_FILE_SERVING!r}; use django, x-accel-redirect or x-sendfile."
    )

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Chartbusters <noreply@chartbusters.local>")
# The site's address as users reach it: every e-mail links to its entry with it.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

# Uploads: a MIDI file is at most 2 MiB, a checkpoint at most 200 MiB (docs/design.md sections 3 and 4).
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

REST_FRAMEWORK = {
    # Token first: an anonymous API call then gets 401 with "WWW-Authenticate: Token", not 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "EXCEPTION_HANDLER": "chartbusters.api.errors.api_exception_handler",
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_SCHEMA_CLASS": "chartbusters.api.schema.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Chartbusters API",
    "DESCRIPTION": "Generative-music competitions: challenges, submissions, leaderboards, generation, judging.",
    "VERSION": "0.1.0",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# Caches. "default" is per process (the leaderboard's versioned pages). "ratelimit" holds the rate-limit counters,
# shared by every web process and machine: Redis when REDIS_URL is set or the broker is Redis, otherwise the
# database (table chartbusters_cache, created by the accounts migration 0001 / `manage.py createcachetable`).
REDIS_URL = env.str("REDIS_URL", default="")
# Celery's broker (the Celery section below). Without CELERY_BROKER_URL the embedded filesystem transport is used.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")


def shared_cache(redis_url: str, broker_url: str) -> dict:
    url = redis_url or (broker_url if broker_url.startswith(("redis://", "rediss://")) else "")
    if url:
        return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url,
                "KEY_PREFIX": "chartbusters"}
    # No culling at Django's default 300 entries: a flood of new keys must not wipe the counters of others.
    return {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "chartbusters_cache",
            "OPTIONS": {"MAX_ENTRIES": 1_000_000}}


CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "ratelimit": shared_cache(REDIS_URL, CELERY_BROKER_URL),
}

# Rate limits (chartbusters.ratelimit): COUNT/PERIOD (s, m, h, d) per user and per client address; "off" disables.
RATE_LIMIT_CACHE = "ratelimit"
RATE_LIMIT_LOGIN = env.str("RATE_LIMIT_LOGIN", default="10/15m")  # failed log-ins: pages, admin and token API
RATE_LIMIT_SIGNUP = env.str("RATE_LIMIT_SIGNUP", default="10/1h")  # sign-up attempts (per address)
RATE_LIMIT_UPLOAD = env.str("RATE_LIMIT_UPLOAD", default="60/1h")  # entry and composition uploads
RATE_LIMIT_GENERATE = env.str("RATE_LIMIT_GENERATE", default="60/1h")  # generation requests (studio / API)
RATE_LIMIT_LIKE = env.str("RATE_LIMIT_LIKE", default="30/1h")  # audience likes (pages and API)
RATE_LIMIT_PASSWORD_RESET = env.str("RATE_LIMIT_PASSWORD_RESET", default="3/1h")  # per e-mail address and per address
RATE_LIMIT_VOTE = env.str("RATE_LIMIT_VOTE", default="60/1h")  # listening in pairs: a vote takes >= 60 s of music
# Reverse proxies in front of the web processes that append the client to X-Forwarded-For (nginx: 1); 0 = none.
RATE_LIMIT_PROXY_COUNT = env.int("RATE_LIMIT_PROXY_COUNT", default=0)

# Celery. Without CELERY_BROKER_URL the embedded filesystem transport is used: no server needed. Its folders are
# created where they are first needed (chartbusters/folders.py: a worker's start, a task's sending), not here.
BROKER_DIR = VAR_DIR / "broker"
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "out"),
        "data_folder_out": str(BROKER_DIR / "out"),
        "data_folder_processed": str(BROKER_DIR / "processed"),
        # Exchange bindings; kombu's default is a "control" folder in the current directory.
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
        "polling_interval": 0.5,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_DEFAULT_QUEUE = "scoring"
# training: a challenge's realness model, minutes of training that must not hold up generation, scoring or audio;
# user-training: users' own models from the Train page, on a queue of their own so that they never wait behind a
# challenge's realness training (and a realness model never waits behind users' runs)
# entries: Melody Harvest entries (checkpoints run on the hidden inputs), never behind studio jobs (issue 24)
CELERY_TASK_QUEUES_NAMES = ("generation", "scoring", "audio", "training", "entries", "user-training")
CELERY_TASK_QUEUES = tuple(Queue(name, routing_key=name) for name in CELERY_TASK_QUEUES_NAMES)
# Senders name the queue (chartbusters.dispatch.send_task); these routes cover tasks sent without one.
CELERY_TASK_ROUTES = {
    "submissions.run_checkpoint_entry": {"queue": "entries"},
    "generation.train_model": {"queue": "user-training"},
    "generation.*": {"queue": "generation"},
    "evaluation.render_submission_audio": {"queue": "audio"},
    "evaluation.train_realness_model": {"queue": "training"},
    "evaluation.*": {"queue": "scoring"},
    "chartbusters.*": {"queue": "scoring"},
}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# Task limits and every limit derived from them, in this one place (docs/operations.md "Recovery and limits").
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=360)
# A worker running an entry writes a heartbeat on its row this often (submissions.services.recovery)...
JOB_HEARTBEAT_SECONDS = env.float("JOB_HEARTBEAT_SECONDS", default=10.0)
# ...and is taken for dead (SIGKILL, out of memory, machine gone) once its heartbeat is this old: the reaper then
# runs the entry again, once (JOB_MAX_ATTEMPTS), on any broker.
JOB_WORKER_LOST_AFTER_SECONDS = 6 * JOB_HEARTBEAT_SECONDS
JOB_MAX_ATTEMPTS = 2
# The reaper runs this often (beat), so a dead worker's entry runs again within LOST_AFTER + INTERVAL seconds.
JOB_REAPER_INTERVAL_SECONDS = min(60.0, JOB_WORKER_LOST_AFTER_SECONDS / 2)
# A job still running this long after its last update, though its worker is alive (a pool that does not enforce the
# hard limit), is failed by the reaper with an explanation.
JOB_STUCK_AFTER_SECONDS = CELERY_TASK_TIME_LIMIT + 120
# A queued job waits for a free worker: a long queue is not a stuck one, so it gets longer (6 hours by default).
JOB_QUEUED_STUCK_AFTER_SECONDS = env.int("JOB_QUEUED_STUCK_AFTER_SECONDS", default=6 * 3600)
# Redis hands an unacknowledged message to another worker after this: longer than any task may run (twice the hard
# limit, plus the time to notice a lost worker), so a running task is never run twice at once, and the reaper has
# already run a dead worker's entry again; the claim (submissions.services.recovery) drops that late copy.
CELERY_VISIBILITY_TIMEOUT_SECONDS = 2 * CELERY_TASK_TIME_LIMIT + JOB_WORKER_LOST_AFTER_SECONDS
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT_SECONDS}
# The studio (generation app, docs/studio.md "Studio"): per-user limits, time limits, and how long unsaved jobs
# are kept.
STUDIO_JOBS_PER_HOUR = env.int("STUDIO_JOBS_PER_HOUR", default=60)  # each variation is a job
STUDIO_MAX_RUNNING_JOBS = env.int("STUDIO_MAX_RUNNING_JOBS", default=4)  # queued or running at once
# worker time per user and hour (issue 24): 60 jobs of 60 s would be an hour of a worker's time per hour
STUDIO_MODEL_SECONDS_PER_HOUR = env.float("STUDIO_MODEL_SECONDS_PER_HOUR", default=600.0)
STUDIO_GENERATION_TIME_LIMIT_SECONDS = env.float("STUDIO_GENERATION_TIME_LIMIT_SECONDS", default=60.0)
STUDIO_TASK_SOFT_TIME_LIMIT = int(STUDIO_GENERATION_TIME_LIMIT_SECONDS) + 30  # model + audio + storing
STUDIO_TASK_TIME_LIMIT = STUDIO_TASK_SOFT_TIME_LIMIT + 30
STUDIO_JOB_STUCK_AFTER_SECONDS = STUDIO_TASK_TIME_LIMIT + 60  # the reaper fails a running job silent this long
STUDIO_JOB_QUEUED_STUCK_AFTER_SECONDS = env.int("STUDIO_JOB_QUEUED_STUCK_AFTER_SECONDS", default=900)
STUDIO_JOB_KEEP_HOURS = env.float("STUDIO_JOB_KEEP_HOURS", default=24.0)  # unsaved jobs, then deleted
# mp3 | ogg | wav. MP3 (the default): 0.18 MB for 17 s of music where WAV is 3.3 MB, and every browser plays it; its
# encoder takes ~0.4 s for 8 bars on an idle core (WAV 0.1 s, OGG 0.2 s): benchmarks/README.md "Studio II"
STUDIO_AUDIO_FORMAT = env.str("STUDIO_AUDIO_FORMAT", default="mp3")
# Training in the browser (the Train page, docs/studio.md "Train your own model"): per-job and per-user limits.
TRAINING_MAX_FILES = env.int("TRAINING_MAX_FILES", default=200)  # MIDI files in one upload (zip members too)
# Django refuses a request with more files than this before any view runs: above the training limit, so that 101-200
# files are accepted and a few more get the training limit's own message (issue 24).
DATA_UPLOAD_MAX_NUMBER_FILES = 2 * TRAINING_MAX_FILES
TRAINING_MAX_UPLOAD_BYTES = env.int("TRAINING_MAX_UPLOAD_BYTES", default=20 * 1024 * 1024)  # all files
TRAINING_MIN_FILES = env.int("TRAINING_MIN_FILES", default=3)  # usable files needed, else the job is refused
TRAINING_MAX_STEPS = env.int("TRAINING_MAX_STEPS", default=3000)  # also bounded by each model's TRAIN_PARAMS
TRAINING_MAX_SECONDS = env.float("TRAINING_MAX_SECONDS", default=900.0)  # wall time: the run stops, keeps its best
TRAINING_MAX_RUNNING_PER_USER = env.int("TRAINING_MAX_RUNNING_PER_USER", default=1)  # queued or running
TRAINING_TASK_SOFT_TIME_LIMIT = int(TRAINING_MAX_SECONDS) + 300  # loading data, the last validation, storing
TRAINING_TASK_TIME_LIMIT = TRAINING_TASK_SOFT_TIME_LIMIT + 60
TRAINING_STUCK_AFTER_SECONDS = env.int("TRAINING_STUCK_AFTER_SECONDS", default=180)  # no progress report
TRAINING_QUEUED_STUCK_AFTER_SECONDS = env.int("TRAINING_QUEUED_STUCK_AFTER_SECONDS", default=6 * 3600)
TRAINING_REPORT_SECONDS = env.float("TRAINING_REPORT_SECONDS", default=2.0)  # curves written at most this often
CELERY_BEAT_SCHEDULE = {
    "reap-stuck-jobs": {
        "task": "chartbusters.reap_stuck_jobs",
        "schedule": JOB_REAPER_INTERVAL_SECONDS,
        "options": {"queue": "scoring", "expires": JOB_REAPER_INTERVAL_SECONDS},
    },
    # Judges are assigned when a challenge's entries close (evaluation.services.judging.judging_assign_due).
    "assign-judges": {
        "task": "evaluation.assign_judges_due",
        "schedule": 60.0,
        "options": {"queue": "scoring", "expires": 60.0},
    },
    # A split Melody Harvest challenge ranks on its private inputs once closed (evaluation.services.leaderboard).
    "leaderboard-phases": {
        "task": "evaluation.leaderboard_phases_due",
        "schedule": 60.0,
        "options": {"queue": "scoring", "expires": 60.0},
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

check_secret_key(SECRET_KEY, DEBUG)
