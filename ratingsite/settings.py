"""Settings, all from the environment with safe defaults.

| variable | default | meaning |
| --- | --- | --- |
| ``DATA_DIR`` | ``./data`` beside manage.py | where the embedded defaults keep their state, and ``serve`` its runtime files |
| ``DATABASE_URL`` | SQLite file ``DATA_DIR/db.sqlite3`` | any URL dj-database-url understands, e.g. ``postgres://user@host:5432/db`` |
| ``REDIS_URL`` | the embedded Redis on the unix socket ``DATA_DIR/redis.sock`` | a real Redis for the rq queues |
| ``MEDIA_ROOT`` | ``DATA_DIR/media`` | stored images; shared by every worker when scaled out |
| ``SECRET_KEY`` | generated once into ``DATA_DIR/secret_key`` and kept | Django's signing key |
| ``DEBUG`` | off; ``DEBUG=1`` turns it on | |
| ``ALLOWED_HOSTS`` | ``127.0.0.1,localhost`` | comma-separated |
| ``CSRF_TRUSTED_ORIGINS`` | empty | comma-separated origins, for a proxy in front |
| ``IMPORT_MAX_ARCHIVE_BYTES`` | 2 GiB | largest zip accepted |
| ``IMPORT_MAX_UNCOMPRESSED_BYTES`` | 8 GiB | largest total inflated size of one zip |
| ``IMPORT_MAX_COMPRESSION_RATIO`` | 200 | largest inflated/compressed ratio of one zip member |
| ``IMPORT_MAX_IMAGE_PIXELS`` | 50,000,000 | largest image (width x height) decoded |
| ``IMPORT_MAX_FILE_BYTES`` | 64 MiB | largest single file of an import (a zip member or a folder's file), read in chunks up to it |
| ``RESEARCHERS_SEE_ALL_WORK`` | on; ``0`` turns it off | researchers see others' image sets, runs, grids and studies, read-only; off: only their own and those they collaborate on |
| ``ANONYMOUS_MAX_REQUEST_BYTES`` | 1 MiB | largest request body before logging in (refused with 413 unread) |
| ``ACCOUNT_MAX_REQUEST_BYTES`` | 1 MiB | largest request body of a logged-in rater; researchers may send ``IMPORT_MAX_ARCHIVE_BYTES`` + 1 MiB |
| ``LOGIN_FAILURE_LIMIT`` | 5 | failed logins, per account and per address, that lock logging in (django-axes) |
| ``LOGIN_LOCKOUT_MINUTES`` | 15 | how long a lock lasts after the last failed attempt; an admin unlocks earlier under *Access attempts* |
| ``INVITATION_VALID_DAYS`` | 14 | how long a rater's invitation link (where they set their own password) stays valid |
| ``EMAIL_HOST`` | empty: invitations are copied from the study page | an SMTP server: invitation links are also emailed; with ``EMAIL_PORT`` (587), ``EMAIL_HOST_USER``, ``EMAIL_HOST_PASSWORD``, ``EMAIL_USE_TLS`` (on) and ``DEFAULT_FROM_EMAIL`` |
| ``BEHIND_HTTPS_PROXY`` | off | ``1`` when a proxy in front ends TLS: trusts its ``X-Forwarded-Proto`` and ``X-Forwarded-For``, redirects to HTTPS, marks cookies Secure, sends HSTS |
| ``SECURE_HSTS_SECONDS`` | 31,536,000 (a year) | HSTS max-age behind the proxy |
| ``SECURE_HSTS_INCLUDE_SUBDOMAINS``, ``SECURE_HSTS_PRELOAD`` | on | the HSTS header's ``includeSubDomains`` and ``preload``; ``0`` turns one off |

The content security policy allows scripts, styles, images, fonts and forms from this site only; styles
may also be inline, because the analysis pages embed matplotlib's SVG plots, which style their shapes
with ``style`` attributes.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF, UNSAFE_INLINE

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("DATA_DIR", BASE_DIR / "data")).resolve()
# The database, media and secret key inside are for this account only; so is every file and folder this
# process makes (imports, checkpoints, reports), whichever code makes it.
os.umask(0o077)
DATA_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)


def _env_flag(name):
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _env_flag_default_on(name):
    return os.environ.get(name, "1").strip().lower() not in ("0", "false", "no", "off")


def _env_list(name, default):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _secret_key():
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = _env_flag("DEBUG")
ALLOWED_HOSTS = _env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = _env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    # The built-in form templates, for SiteFormRenderer, which loads form templates like any other.
    "django.forms",
    "django_rq",
    "axes",
    "ratingsite.core",
    "ratingsite.accounts",
    "ratingsite.jobs",
    "ratingsite.imagesets",
    "ratingsite.training",
    "ratingsite.metrics",
    "ratingsite.studies",
    "ratingsite.analysis",
    "ratingsite.site",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Before CsrfViewMiddleware, which reads request.POST and so the whole body; after authentication,
    # because the limit depends on who sends the request.
    "ratingsite.core.middleware.RequestSizeLimitMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a lockout flagged during the login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ratingsite.urls"

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
                "ratingsite.accounts.context_processors.roles",
            ],
        },
    },
]

FORM_RENDERER = "ratingsite.core.forms.SiteFormRenderer"

WSGI_APPLICATION = "ratingsite.wsgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{DATA_DIR / 'db.sqlite3'}"),
        conn_max_age=60,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    sqlite_file = Path(DATABASES["default"]["NAME"])
    if sqlite_file.parent.is_dir() and not sqlite_file.exists():
        # SQLite would create the file (and its -wal and -shm files, which copy its mode) world-readable.
        os.close(os.open(sqlite_file, os.O_WRONLY | os.O_CREAT, 0o600))
    # WAL lets the web server read while the worker writes; the timeout rides out short write locks.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "ratingsite.accounts.login_throttle.HttpLoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", 5))
LOGIN_LOCKOUT_MINUTES = int(os.environ.get("LOGIN_LOCKOUT_MINUTES", 15))
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=LOGIN_LOCKOUT_MINUTES)
# Either limit locks: failures against one account from many addresses, or from one address against many
# accounts.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# Left off (axes' default): a success would also delete the failures from its address against other
# accounts, so an attacker with an account of their own could keep guessing another's password.
AXES_RESET_ON_SUCCESS = False
AXES_LOCKOUT_CALLABLE = "ratingsite.accounts.login_throttle.locked_out_response"
INVITATION_VALID_DAYS = int(os.environ.get("INVITATION_VALID_DAYS", 14))
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
INVITATIONS_BY_EMAIL = bool(EMAIL_HOST)
if INVITATIONS_BY_EMAIL:
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT", 587))
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = os.environ.get("EMAIL_USE_TLS", "1") != "0"
    DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", EMAIL_HOST_USER or "webmaster@localhost")
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", DATA_DIR / "media")).resolve()
MEDIA_URL = "media/"
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700

EMBEDDED_REDIS_SOCKET = DATA_DIR / "redis.sock"
REDIS_URL = os.environ.get("REDIS_URL") or f"unix://{EMBEDDED_REDIS_SOCKET}"
RQ_QUEUES = {
    "default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 6 * 3600},
    "gpu": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 48 * 3600},
}
RQ_SHOW_ADMIN_LINK = True
RQ = {"WORKER_CLASS": "ratingsite.site.worker.JobLibrariesWorker"}

IMPORT_MAX_ARCHIVE_BYTES = int(os.environ.get("IMPORT_MAX_ARCHIVE_BYTES", 2 * 1024**3))
IMPORT_MAX_UNCOMPRESSED_BYTES = int(os.environ.get("IMPORT_MAX_UNCOMPRESSED_BYTES", 8 * 1024**3))
IMPORT_MAX_COMPRESSION_RATIO = int(os.environ.get("IMPORT_MAX_COMPRESSION_RATIO", 200))
IMPORT_MAX_IMAGE_PIXELS = int(os.environ.get("IMPORT_MAX_IMAGE_PIXELS", 50_000_000))
IMPORT_MAX_FILE_BYTES = int(os.environ.get("IMPORT_MAX_FILE_BYTES", 64 * 1024**2))
RESEARCHERS_SEE_ALL_WORK = _env_flag_default_on("RESEARCHERS_SEE_ALL_WORK")
# Uploads above this size go to a temporary file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024**2
ANONYMOUS_MAX_REQUEST_BYTES = int(os.environ.get("ANONYMOUS_MAX_REQUEST_BYTES", 1024**2))
ACCOUNT_MAX_REQUEST_BYTES = int(os.environ.get("ACCOUNT_MAX_REQUEST_BYTES", 1024**2))
# The import forms' other fields and the multipart framing around the archive.
UPLOAD_FORM_MARGIN_BYTES = 1024**2
FILE_UPLOAD_HANDLERS = [
    "ratingsite.core.uploads.FileSizeLimitUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# One-time passwords shown to researchers (invited raters) stay on the server, not in a cookie.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        # django-rq's admin job lists carry one inline script (the select-all box of their actions); its
        # hash allows exactly that script, as django-rq==4.2.0 ships it.
        "script-src": [SELF, "'sha256-1kZe1KRxelr3ptMPsod17Z6BDvbtm4WcufgsZGvsErM='"],
        # The analysis pages embed matplotlib's SVG plots, which style their shapes with style attributes
        # and a <style> element; the heat maps shade their cells with a style attribute.
        "style-src": [SELF, UNSAFE_INLINE],
        # matplotlib's SVG carries raster plots (heat maps) as data: URLs.
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

BEHIND_HTTPS_PROXY = _env_flag("BEHIND_HTTPS_PROXY")
if BEHIND_HTTPS_PROXY:
    # The proxy ends TLS; it must set X-Forwarded-Proto itself on every request (never pass the client's on).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 365 * 24 * 3600))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_flag_default_on("SECURE_HSTS_INCLUDE_SUBDOMAINS")
    SECURE_HSTS_PRELOAD = _env_flag_default_on("SECURE_HSTS_PRELOAD")
    # The login lockout per address needs the client's address, not the proxy's.
    AXES_CLIENT_IP_CALLABLE = "ratingsite.accounts.login_throttle.forwarded_client_address"

if not DEBUG:
    SESSION_COOKIE_HTTPONLY = True
    CSRF_COOKIE_HTTPONLY = False
    X_FRAME_OPTIONS = "DENY"
    SECURE_CONTENT_TYPE_NOSNIFF = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
