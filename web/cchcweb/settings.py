"""Settings of the scoring workspace.

Everything that differs between installations comes from the environment, set by `cchc serve`:
CCHC_DATA (the data folder: SQLite database, uploads, the secret key), CCHC_HOST (the host the
server answers to), DATABASE_URL (PostgreSQL instead of SQLite). Without CCHC_DATA a throwaway folder
is used (tests, one-off management commands).
"""
from __future__ import annotations

import atexit
import os
import secrets
import shutil
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlparse

if os.environ.get("CCHC_DATA"):
    DATA_DIR = Path(os.environ["CCHC_DATA"]).resolve()
else:  # a throwaway folder, removed when the process ends
    DATA_DIR = Path(tempfile.mkdtemp(prefix="cchc-web-")).resolve()
    atexit.register(shutil.rmtree, DATA_DIR, True)
DATA_DIR.mkdir(parents=True, exist_ok=True)
UPLOAD_DIR = DATA_DIR / "uploads"


def _secret_key(folder: Path) -> str:
    """Generated once per data folder, readable only by its owner; never in the code."""
    path = folder / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


def database(url: str | None, folder: Path) -> dict:
    """SQLite in the data folder, or the PostgreSQL server named by a `postgresql://` URL."""
    if not url:
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": folder / "cchc.sqlite3",
                "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                            "transaction_mode": "IMMEDIATE", "timeout": 30},
                "TEST": {"NAME": folder / "test.sqlite3"}}
    u = urlparse(url)
    if u.scheme not in ("postgres", "postgresql"):
        raise ValueError(f"DATABASE_URL must start with postgresql://, got {u.scheme}://")
    return {"ENGINE": "django.db.backends.postgresql", "NAME": unquote(u.path.lstrip("/")),
            "USER": unquote(u.username or ""), "PASSWORD": unquote(u.password or ""),
            "HOST": u.hostname or "", "PORT": str(u.port or ""), "CONN_MAX_AGE": 60}


SECRET_KEY = _secret_key(DATA_DIR)
DEBUG = False
HOST = os.environ.get("CCHC_HOST", "127.0.0.1")
# The host the server listens on (and its loopback names); CCHC_ALLOWED_HOSTS (comma-separated) names the
# host names people use when it listens on another address, e.g. behind a proxy or on 0.0.0.0.
ALLOWED_HOSTS = sorted(
    {h.strip() for h in os.environ["CCHC_ALLOWED_HOSTS"].split(",") if h.strip()} if os.environ.get("CCHC_ALLOWED_HOSTS")
    else {HOST, "127.0.0.1", "localhost"} if HOST in ("127.0.0.1", "localhost") else {HOST})

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "web.workspace",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "web.cchcweb.urls"
WSGI_APPLICATION = "web.cchcweb.wsgi.application"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "DIRS": [],
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]
DATABASES = {"default": database(os.environ.get("DATABASE_URL"), DATA_DIR)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "vi"  # the pages are written in Vietnamese; Django's own texts use its Vietnamese catalogue
LANGUAGES = [("vi", "Tiếng Việt")]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
WHITENOISE_USE_FINDERS = True  # the admin's own CSS, straight from the installed package

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_AGE = 8 * 3600  # a working day; then log in again
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if os.environ.get("CCHC_HTTPS"):  # behind a TLS proxy
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True

# Uploads: evidence files up to CCHC_UPLOAD_MAX_MB (default 20 MB); larger bodies are refused.
UPLOAD_MAX_BYTES = int(os.environ.get("CCHC_UPLOAD_MAX_MB", "20")) * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024  # form fields other than files
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 5000  # a criteria set has a few hundred fields
LOGIN_FAILURE_LIMIT = 5  # failed logins per user name and address …
LOGIN_FAILURE_WINDOW = 15 * 60  # … within this many seconds lock that pair for the same time

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django.request": {"handlers": ["console"], "level": "ERROR"}},
}
