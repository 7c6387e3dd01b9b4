"""facility_log settings: one module, driven by the environment.

Production is the default: DEBUG is off unless DEBUG=1, and then SECRET_KEY must be given.
`make run` sets DEBUG=1 for the local demo.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    """Read a yes/no environment variable; unknown words are an error, not a guess."""
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a yes/no value (use 1 or 0).")


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_days(name: str, default: int) -> int:
    """A number of days from the environment: a whole number of at least 1."""
    value = os.environ.get(name, "")
    if value == "":
        return default
    if not value.isdigit() or int(value) < 1:
        raise ImproperlyConfigured(f"{name}={value!r} is not a number of days (1 or more).")
    return int(value)


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set the SECRET_KEY environment variable to a long random "
            "value (for example: python -c 'import secrets; print(secrets.token_urlsafe(50))'), "
            "or set DEBUG=1 for local development only."
        )
    # Development only: a per-checkout key so sessions survive restarts of `make run`.
    SECRET_KEY = "insecure-dev-key-" + str(BASE_DIR)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "simple_history",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_tasks",
    "django_tasks_db",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "csp",
    # Before facility_log: facility_log/admin.py takes its records out of the admin again.
    "axes",
    "facility_log",
]

# Background jobs (large access-event imports): Django's Tasks API through the django-tasks
# backport, stored in the database and run by `manage.py db_worker` (README, "Worker").
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# Uploaded access-event files larger than this are imported by the worker, with the page
# showing progress; smaller ones in the request.
ACCESS_IMPORT_BACKGROUND_BYTES = int(os.environ.get("ACCESS_IMPORT_BACKGROUND_BYTES", 2_000_000))
# Ledger checks asked for on the audit page run on the worker, one at a time, and a new one
# at most every this many seconds.
AUDIT_CHECK_INTERVAL = int(os.environ.get("AUDIT_CHECK_INTERVAL", "60"))

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "facility_log.body_timeout.BodyReadTimeoutMiddleware",
    "facility_log.middleware.RequestIdMiddleware",
    "facility_log.middleware.MembershipsOncePerRequestMiddleware",
    "facility_log.outage.DatabaseOutageMiddleware",
    "facility_log.middleware.RejectNulMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "facility_log.middleware.UserLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Django's and django-otp's, reading the user and the session's authenticator in one
    # query (facility_log/signed_in.py).
    "facility_log.signed_in.AuthenticationMiddleware",
    "facility_log.signed_in.OTPMiddleware",
    "facility_log.middleware.LoginRequiredMiddleware",
    "facility_log.middleware.TwoFactorRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "facility_log.middleware.SecurityHeadersMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last: it answers a locked-out sign-in with the lockout page (docs/security.md).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "facility_log.context_processors.navigation",
            ],
        },
    },
]

# Inputs, lists and text areas written in Python, not a template per widget and per option
# (facility_log/forms/renderer.py: the same markup, a quarter of a list page's time).
FORM_RENDERER = "facility_log.forms.renderer.FastWidgetRenderer"

# Databases: SQLite file in the project folder unless DATABASE_URL says otherwise.
# Connections are kept between requests (CONN_MAX_AGE): on PostgreSQL opening one per
# request costs most of the time of a small page.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "600")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers and one writer work at once; IMMEDIATE takes the write lock at the
    # start of a transaction so two writers queue instead of failing half-way.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0

if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # An outage ends inside the app, as a 503 "try again" (facility_log/outage.py), before
    # gunicorn's worker timeout (30 s unless --timeout) kills the request with an HTML page:
    # connecting gives up after DB_CONNECT_TIMEOUT, a statement after DB_STATEMENT_TIMEOUT,
    # and a connection whose packets go unanswered (a network cut) after
    # DB_CONNECT_TIMEOUT too. Keep gunicorn's --timeout above connect + statement timeout.
    # manage.py sets no statement timeout: commands and the worker run long statements by
    # design (README, "Outages").
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _connect_timeout = int(os.environ.get("DB_CONNECT_TIMEOUT", "5"))
    _statement_timeout = int(os.environ.get("DB_STATEMENT_TIMEOUT", "20"))
    _options.setdefault("connect_timeout", _connect_timeout)
    _options.setdefault("tcp_user_timeout", _connect_timeout * 1000)
    if _statement_timeout:
        _options["options"] = (
            f"{_options.get('options', '')} -c statement_timeout={_statement_timeout * 1000}"
        ).strip()
# Seconds a client is told to wait (Retry-After) when the database is unavailable.
DATABASE_RETRY_AFTER = int(os.environ.get("DB_RETRY_AFTER", "5"))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Sign-in throttling (django-axes, docs/security.md): a username is locked *from one address*
# after AXES_FAILURE_LIMIT wrong passwords, for the cool-off. Locking by the pair, not by the
# address alone, keeps the tablets behind one NAT from locking each other out; locking by
# the pair, not by the username alone, keeps a stranger from locking a guard out from afar.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, taking the user read with the session's authenticator.
    "facility_log.signed_in.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("FACILITY_LOG_LOGIN_FAILURE_LIMIT", "10"))
AXES_COOLOFF_TIME = timedelta(
    minutes=int(os.environ.get("FACILITY_LOG_LOGIN_COOLOFF_MINUTES", "15"))
)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "facility_log.views.sign_in.locked_out"
# Successful sign-ins are not kept with their address (PRIVACY.md): only failures, until
# their cool-off ends.
AXES_DISABLE_ACCESS_LOG = True
AXES_ENABLE_ACCESS_FAILURE_LOG = False
# Behind a TLS proxy (BEHIND_TLS_PROXY=1) the client's address is the last one the proxy
# added to X-Forwarded-For; without one, the connection's own (views/sign_in.py).
AXES_CLIENT_IP_CALLABLE = "facility_log.views.sign_in.client_address"

# Two-factor sign-in (django-otp, docs/security.md): required for supervisors, managers,
# auditors and staff (the admin site); optional for guards on shared tablets.
OTP_TOTP_ISSUER = os.environ.get("FACILITY_LOG_OTP_ISSUER", "facility_log")

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Times are stored in UTC; pages show them in the site's own zone (see templatetags).
LANGUAGE_CODE = "en-gb"
# The pages speak English and German (docs/translations.md). A signed-in person's own choice
# wins; otherwise the browser's Accept-Language picks; otherwise British English.
LANGUAGES = [("en-gb", "English"), ("de", "Deutsch")]
LOCALE_PATHS = [BASE_DIR / "facility_log" / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
# In development and tests, static files are served straight from the app folders.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Uploads (attachments, import files) and anything else kept through Django's storage API:
# the local MEDIA_ROOT by default; FILE_STORAGE=s3 puts them in an S3-compatible bucket so that
# several app servers and workers share them (docs/deploy.md). Credentials come the way boto3
# reads them (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, or the instance's role), never from
# this file. Files are always served through the app's own permission-checked views: the
# bucket stays private and no URL of it is handed out.
FILE_STORAGE = os.environ.get("FILE_STORAGE", "local").lower()
if FILE_STORAGE == "s3":
    if not os.environ.get("S3_BUCKET"):
        raise ImproperlyConfigured("FILE_STORAGE=s3 needs S3_BUCKET (the bucket's name).")
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ["S3_BUCKET"],
            "location": os.environ.get("S3_PREFIX", ""),
            "endpoint_url": os.environ.get("S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("S3_REGION") or None,
            "addressing_style": os.environ.get("S3_ADDRESSING_STYLE") or None,
            # Evidence is never overwritten in place: a clash gets a new name.
            "file_overwrite": False,
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": 60,
            # A file read from the bucket is buffered whole before its first byte is used;
            # past 2 MB on local disk, not in memory (the default keeps all of it in memory).
            "max_memory_size": 2 * 1024 * 1024,
        },
    }
elif FILE_STORAGE != "local":
    raise ImproperlyConfigured(f"FILE_STORAGE={FILE_STORAGE!r}: use local or s3.")

# Sessions live in the database, so a sign-in on one app server holds on every other.
# Django's database store, its one read compiled once per process (facility_log/sessions.py).
SESSION_ENGINE = "facility_log.sessions"

# The cache is shared by every app server and worker when CACHE_URL names Redis
# (redis://host:6379/0) or the database (db); without it each process keeps its own, which is
# only right for a single server (docs/deploy.md).
CACHE_URL = os.environ.get("CACHE_URL", "")
if CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    _cache = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
elif CACHE_URL in {"db", "database"}:
    # The table is made by `migrate` (facility_log's post-migrate step).
    _cache = {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "cache_table"}
elif CACHE_URL in {"", "locmem"}:
    _cache = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
else:
    raise ImproperlyConfigured(f"CACHE_URL={CACHE_URL!r}: use redis://..., db or locmem.")
CACHES = {"default": {**_cache, "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "facility_log")}}

# Security: secure by default, relaxed only for local HTTP development.
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 12 * 60 * 60  # one long night shift
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
# The preload directive only allows a domain to be submitted to browsers' preload lists;
# set SECURE_HSTS_PRELOAD=0 for a host that may ever need plain HTTP again.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp 4): scripts and styles from this server only; the few
# <style> blocks in pages carry the request's nonce. Style *attributes* stay allowed: they
# cannot run code, and Django's admin and the API docs use them. The tablet's service worker
# is a same-origin script (worker-src), its camera stream needs no source at all.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'", NONCE],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'"],
        "manifest-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Permissions-Policy: the camera for this origin (the tablet scans checkpoint QR codes);
# every other powerful feature off, on every page.
PERMISSIONS_POLICY = (
    "camera=(self), microphone=(), geolocation=(), payment=(), usb=(), serial=(), hid=(), "
    "bluetooth=(), midi=(), display-capture=(), screen-wake-lock=(), "
    "accelerometer=(), gyroscope=(), magnetometer=(), browsing-topics=()"
)
BEHIND_TLS_PROXY = env_bool("BEHIND_TLS_PROXY", False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
# A mail server that does not answer must not hold a request (notices are emailed after the
# change commits, in the request that made it): give up after this many seconds, and the
# notice records why (docs/notifications.md).
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "10"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "facility-log@localhost")
# The address people reach this installation at: links in emails are full URLs from it.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "facility_log.api.authentication.ApiTokenAuthentication",
        "facility_log.api.authentication.VerifiedSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["facility_log.api.permissions.SignedInAsTheRecordsAuthor"],
    "DEFAULT_SCHEMA_CLASS": "facility_log.api.schema.FacilityLogAutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["facility_log.api.filters.FilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "facility_log.api.pagination.Pagination",
    # Write operations read JSON; an operation that takes a file sets its own multipart
    # parser. One body format per operation keeps the schema, and the clients generated from
    # it, to what the server really reads.
    "DEFAULT_PARSER_CLASSES": ["facility_log.api.parsers.JSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "facility_log.api.errors.exception_handler",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "facility_log API",
    "DESCRIPTION": "The security log of physical facilities. Token authentication: "
    "`Authorization: Token <key>` (issue one with `manage.py issue_token USERNAME`).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # Request and response bodies are separate components (`IncidentRequest` has no read-only
    # `id`), so a generated client does not require what the server assigns.
    "COMPONENT_SPLIT_REQUEST": True,
    # Choice sets that appear under several field names (`kind`, `status`) or in several
    # request bodies (a log entry, and one in a sync batch) keep one name.
    "ENUM_NAME_OVERRIDES": {
        "AlarmStatusEnum": "facility_log.models.access.AlarmState",
        "EventTypeEnum": "facility_log.models.access.EventType",
        "IncidentStatusEnum": "facility_log.models.incidents.Status",
        "RecordKindEnum": "facility_log.models.retention.RecordKind",
        # An access event's denial reason keeps the name generated clients know, whatever
        # other `reason` enums (a webhook's refusal) appear beside it.
        "ReasonEnum": "facility_log.models.access.DenialReason",
        "ShiftEntryKindEnum": "facility_log.models.shifts.ShiftEntryKind",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "facility_log.api.schema.declare_text_without_nul",
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # WeasyPrint reports every layout step at INFO.
    # axes announces itself at INFO when the app loads: noise in every command's output (whose
    # errors are one line). Failed and refused sign-ins go to facility_log.auth.
    "loggers": {
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}

FACILITY_LOG = {
    # The account that management commands act as when no person is at the keyboard.
    "SYSTEM_USERNAME": os.environ.get("FACILITY_LOG_SYSTEM_USER", "system"),
    # Largest attachment accepted (photos, video, audio, documents), in bytes.
    "MAX_UPLOAD_BYTES": int(os.environ.get("FACILITY_LOG_MAX_UPLOAD_BYTES", str(25 * 1024 * 1024))),
    # Guard rounds (services/rounds/): two scans of different checkpoints closer together
    # than this are "implausibly fast"; a device clock further than this from the server's
    # is flagged as drifting; a run still open this long after its last stop was due is
    # "overdue"; check_rounds looks back this far for missed windows.
    "ROUNDS_MIN_WALK_SECONDS": int(os.environ.get("FACILITY_LOG_ROUNDS_MIN_WALK_SECONDS", "20")),
    "ROUNDS_CLOCK_DRIFT_SECONDS": int(
        os.environ.get("FACILITY_LOG_ROUNDS_CLOCK_DRIFT_SECONDS", "120")
    ),
    # Grace for each stop of a run that belongs to no schedule (a schedule brings its own).
    "ROUNDS_DEFAULT_GRACE_MINUTES": int(
        os.environ.get("FACILITY_LOG_ROUNDS_DEFAULT_GRACE_MINUTES", "5")
    ),
    "ROUNDS_OVERDUE_MINUTES": int(os.environ.get("FACILITY_LOG_ROUNDS_OVERDUE_MINUTES", "30")),
    "ROUNDS_LOOKBACK_HOURS": int(os.environ.get("FACILITY_LOG_ROUNDS_LOOKBACK_HOURS", "48")),
    # Key of the HMAC that pseudonymises access-control credential numbers; empty: derived
    # from SECRET_KEY. Changing it makes old and new hashes of the same card differ.
    "CREDENTIAL_KEY": os.environ.get("FACILITY_LOG_CREDENTIAL_KEY", ""),
    # Key of the HMAC that signs ledger checkpoints and head files; empty: derived from
    # SECRET_KEY. Changing it makes earlier head files and checkpoints fail their signature.
    "LEDGER_KEY": os.environ.get("FACILITY_LOG_LEDGER_KEY", ""),
    # API tokens: days a new token works (empty or 0: until revoked). Tokens issued before a
    # change keep the expiry they were given.
    "API_TOKEN_LIFETIME_DAYS": int(os.environ.get("FACILITY_LOG_API_TOKEN_LIFETIME_DAYS") or 0),
    # Retention (docs/retention.md, PRIVACY.md): days a record is kept before
    # `purge_expired --apply` removes it, per kind; a site's managers may set their own
    # period per kind on the site's retention page. Counted from: an access event's time; a
    # run's start; a shift's end; an incident's closing or voiding; a record view's time.
    "RETENTION_DAYS": {
        kind: env_days(f"FACILITY_LOG_RETENTION_{kind.upper()}_DAYS", default)
        for kind, default in (
            ("access_events", 90),
            ("rounds", 365),
            ("shifts", 365),
            ("incidents", 7 * 365 + 2),  # 7 years, whatever leap days they hold
            ("view_log", 2 * 365),
            ("visitors", 30),
        )
    },
    # Lost and found (docs/lost-and-found.md): days a found item is kept before it may be
    # disposed of, counted from when it was found; one period for every site.
    "LOST_PROPERTY_DAYS": env_days("FACILITY_LOG_LOST_PROPERTY_DAYS", 90),
}
