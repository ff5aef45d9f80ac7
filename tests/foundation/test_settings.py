"""Settings from the environment: the embedded default, the SECRET_KEY refusal, no torch in the web process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from chartbusters.settings.base import DEFAULT_SECRET_KEY, SECRET_KEY_REFUSED, check_secret_key

REPO = Path(__file__).resolve().parents[2]
CLEAN_ENV_KEYS = ("DATABASE_URL", "CELERY_BROKER_URL", "SECRET_KEY", "DEBUG", "MEDIA_ROOT", "ALLOWED_HOSTS",
                  "DJANGO_SETTINGS_MODULE", "CHARTBUSTERS_TEST_DB_NAME", "PYTEST_XDIST_WORKER")


def run_python(code: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in CLEAN_ENV_KEYS}
    base["CHARTBUSTERS_VAR_DIR"] = str(tmp_path / "var")
    return subprocess.run([sys.executable, "-c", code], cwd=REPO, env={**base, **env}, capture_output=True,
                          text=True, timeout=120)


def test_check_secret_key():
    with pytest.raises(ImproperlyConfigured, match="set the SECRET_KEY environment variable"):
        check_secret_key(DEFAULT_SECRET_KEY, debug=False)
    check_secret_key(DEFAULT_SECRET_KEY, debug=True)
    check_secret_key("a-real-key", debug=False)


def test_start_up_refuses_the_default_secret_key_with_debug_off(tmp_path):
    result = run_python("import django; django.setup()", tmp_path, DJANGO_SETTINGS_MODULE="chartbusters.settings.base",
                        DEBUG="0")
    assert result.returncode != 0
    assert SECRET_KEY_REFUSED in result.stderr
    ok = run_python("import django; django.setup()", tmp_path, DJANGO_SETTINGS_MODULE="chartbusters.settings.base",
                    DEBUG="0", SECRET_KEY="x" * 50)
    assert ok.returncode == 0, ok.stderr


def test_production_settings_need_a_secret_key(tmp_path):
    result = run_python("import django; django.setup()", tmp_path,
                        DJANGO_SETTINGS_MODULE="chartbusters.settings.production")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


PRODUCTION = {"DJANGO_SETTINGS_MODULE": "chartbusters.settings.production", "ALLOWED_HOSTS": "chartbusters.example.org",
              "SECRET_KEY": "Zq7" + "v3-Kp9_wLm2xR8tYb4nC6hJd1sFg5aE0uQiOzWyXcVbNm-8Tr4",
              "SECURE_HSTS_SECONDS": "31536000", "SECURE_HSTS_PRELOAD": "1"}  # as in docs/operations.md


def test_check_deploy_is_clean_with_the_readmes_production_settings(tmp_path):
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], cwd=REPO,
                            env={**{k: v for k, v in os.environ.items() if k not in CLEAN_ENV_KEYS},
                                 "CHARTBUSTERS_VAR_DIR": str(tmp_path / "var"), **PRODUCTION},
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("key", ["x", "k" * 49, "ab" * 30])
def test_production_refuses_a_short_or_plain_secret_key(tmp_path, key):
    result = run_python("import django; django.setup()", tmp_path, **{**PRODUCTION, "SECRET_KEY": key})
    assert result.returncode != 0
    assert "at least 50 characters" in result.stderr


def test_production_trusts_the_proxy_header_only_when_asked(tmp_path):
    code = "import django; django.setup(); from django.conf import settings; print(settings.SECURE_PROXY_SSL_HEADER)"
    assert run_python(code, tmp_path, **PRODUCTION).stdout.strip() == "None"
    asked = run_python(code, tmp_path, **PRODUCTION, SECURE_PROXY_SSL_HEADER="1").stdout.strip()
    assert asked == "('HTTP_X_FORWARDED_PROTO', 'https')"


DUMP = """
import django, json; django.setup()
from django.conf import settings
print(json.dumps({"db": settings.DATABASES["default"]["ENGINE"], "name": str(settings.DATABASES["default"]["NAME"]),
  "broker": settings.CELERY_BROKER_URL, "media": str(settings.MEDIA_ROOT), "debug": settings.DEBUG,
  "hosts": settings.ALLOWED_HOSTS, "queues": [q.name for q in settings.CELERY_TASK_QUEUES]}))
"""


def test_embedded_default_with_nothing_set(tmp_path):
    result = run_python(DUMP, tmp_path, DJANGO_SETTINGS_MODULE="chartbusters.settings.local")
    assert result.returncode == 0, result.stderr
    s = json.loads(result.stdout)
    var = tmp_path / "var"
    assert s == {"db": "django.db.backends.sqlite3", "name": str(var / "chartbusters.sqlite3"),
                 "broker": "filesystem://", "media": str(var / "media"), "debug": True,
                 "hosts": ["localhost", "127.0.0.1"],
                 "queues": ["generation", "scoring", "audio", "training", "entries", "user-training"]}
    assert not var.exists()  # loading the settings writes nothing: the folders come where first needed


def test_manage_py_makes_the_embedded_defaults_folders_before_any_command(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in CLEAN_ENV_KEYS}
    result = subprocess.run([sys.executable, "manage.py", "--version"], cwd=REPO, capture_output=True, text=True,
                            env={**env, "CHARTBUSTERS_VAR_DIR": str(tmp_path / "var")}, timeout=120)
    assert result.returncode == 0, result.stderr
    var = tmp_path / "var"
    assert var.is_dir()  # migrate can create the SQLite file in it
    assert sorted(p.name for p in (var / "broker").iterdir()) == ["control", "out", "processed"]


def test_sending_a_task_makes_the_filesystem_brokers_folders(tmp_path):
    code = ("import django; django.setup()\n"
            "from chartbusters.celery import app\n"
            "app.send_task('chartbusters.reap_stuck_jobs', queue='scoring')\n")
    result = run_python(code, tmp_path, DJANGO_SETTINGS_MODULE="chartbusters.settings.local")
    assert result.returncode == 0, result.stderr
    assert len(list((tmp_path / "var" / "broker" / "out").iterdir())) == 1  # the message, waiting for a worker


def test_settings_are_read_with_their_casts(tmp_path):
    code = ("import django, json; django.setup(); from django.conf import settings as s\n"
            "print(json.dumps([s.DEBUG, s.ALLOWED_HOSTS, s.RATE_LIMIT_PROXY_COUNT, s.JOB_HEARTBEAT_SECONDS, "
            "s.DATABASES['default']['CONN_MAX_AGE'], s.TRAINING_MAX_UPLOAD_BYTES]))")
    result = run_python(code, tmp_path, DJANGO_SETTINGS_MODULE="chartbusters.settings.base", DEBUG="yes",
                        ALLOWED_HOSTS="a.example, b.example", RATE_LIMIT_PROXY_COUNT="1", JOB_HEARTBEAT_SECONDS="2.5",
                        DATABASE_URL="postgres://u:p@db.example:5432/cb", DB_CONN_MAX_AGE="30")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [True, ["a.example", "b.example"], 1, 2.5, 30, 20 * 1024 * 1024]


def test_settings_from_the_environment(tmp_path):
    result = run_python(DUMP, tmp_path, DJANGO_SETTINGS_MODULE="chartbusters.settings.base", DEBUG="0",
                        SECRET_KEY="k" * 50, DATABASE_URL="postgres://u:p@db.example:5432/cb",
                        CELERY_BROKER_URL="redis://broker.example:6379/0", MEDIA_ROOT=str(tmp_path / "m"),
                        ALLOWED_HOSTS="chartbusters.example,www.chartbusters.example")
    assert result.returncode == 0, result.stderr
    s = json.loads(result.stdout)
    assert s["db"] == "django.db.backends.postgresql"
    assert s["name"] == "cb"
    assert s["broker"] == "redis://broker.example:6379/0"
    assert s["media"] == str(tmp_path / "m")
    assert s["debug"] is False
    assert s["hosts"] == ["chartbusters.example", "www.chartbusters.example"]


def test_wsgi_application_and_every_url_import_no_torch(tmp_path):
    code = (
        "import sys, chartbusters.wsgi\n"
        "from django.urls import get_resolver\n"
        "def walk(patterns):\n"
        "    for p in patterns:\n"
        "        walk(getattr(p, 'url_patterns', []))\n"
        "walk(get_resolver().url_patterns)\n"
        "print('torch' in sys.modules)\n"
    )
    result = run_python(code, tmp_path, DJANGO_SETTINGS_MODULE="chartbusters.settings.local")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"
