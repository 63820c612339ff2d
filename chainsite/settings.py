"""Settings for chainsite, read from the environment with safe development defaults.

Every setting a deployment changes comes from an environment variable; see README.md
("Configuration") for the list.
"""

import os
import re
import warnings
from pathlib import Path

import dj_database_url
import dj_email_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name, default=False):
    """Read a boolean environment variable ("1", "true", "yes", "on" are true)."""
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def envint(name, default):
    """Read an integer environment variable, falling back to ``default`` when unset."""
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


def envlist(name, default=""):
    """Read a comma-separated environment variable as a list of non-empty items."""
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = envbool("DEBUG", True)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")
# Scheme and host of the links in mails; empty: the address the request came in on.
SITE_URL = os.environ.get("SITE_URL", "").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "django_filters",
    "django_htmx",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "axes",
    "directory",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before the session: a client that just wrote reads its session from the primary.
    "directory.ops.db_router.PrimaryAfterWriteMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Django's LocaleMiddleware, with permanent redirects of unprefixed page addresses.
    "directory.web.language.LanguageRedirectMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes requires: it turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "chainsite.urls"
WSGI_APPLICATION = "chainsite.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def database(url):
    """One entry of DATABASES from a database URL, with what our code relies on."""
    db = dj_database_url.parse(url, conn_max_age=envint("CONN_MAX_AGE", 60), conn_health_checks=True)
    if db["ENGINE"] == "django.db.backends.sqlite3":
        # Wait for a concurrent writer instead of failing at once with "database is locked".
        db.setdefault("OPTIONS", {})["timeout"] = 20
        db["CONN_MAX_AGE"] = 0
    elif db["ENGINE"] == "django.db.backends.postgresql":
        # A search works on its first matches in table order (directory/catalog/search.py), which
        # must be the same order every time: no scan that starts where another one is
        # (synchronised sequential scans of large tables), no parallel workers returning
        # rows interleaved.
        options = db.setdefault("OPTIONS", {})
        options["options"] = " ".join(
            [options.get("options", ""), "-c synchronize_seqscans=off -c max_parallel_workers_per_gather=0"]
        ).strip()
    return db


def replica_databases(urls):
    """``{alias: settings}`` of the read replicas at ``urls`` (``DATABASE_REPLICA_URLS``).
    In tests each stands for the primary's test database."""
    return {
        f"replica{number}": {**database(url), "TEST": {"MIRROR": "default"}}
        for number, url in enumerate(urls, start=1)
    }


# SQLite file in the project folder unless DATABASE_URL says otherwise.
DATABASES = {"default": database(os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
# Read replicas (docs/deploy.md): reads go to them except where they may lag behind a
# write (directory/ops/db_router.py); REPLICA_LAG_SECONDS is how long that is taken to be.
DATABASES.update(replica_databases(envlist("DATABASE_REPLICA_URLS")))
REPLICA_DATABASES = [alias for alias in DATABASES if alias != "default"]
REPLICA_LAG_SECONDS = envint("REPLICA_LAG_SECONDS", 5)
DATABASE_ROUTERS = ["directory.ops.db_router.PrimaryReplicaRouter"] if REPLICA_DATABASES else []
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            # Redis, but a Redis outage degrades to "no cache" instead of failing requests.
            "BACKEND": "chainsite.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "chainsite",
            "TIMEOUT": 300,
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "chainsite",
            "TIMEOUT": 300,
            # Pages, counts and rendered participant cards: room for a few thousand.
            "OPTIONS": {"MAX_ENTRIES": 20_000},
        }
    }

# The in-memory indexes (directory/catalog/bitmap.py) are also put in the cache for the other
# processes when it is shared by them, as Redis is (docs/performance.md).
SHARE_INDEXES = bool(REDIS_URL)

# Seconds an anonymous visitor's page stays cached (0 turns the page cache off); any
# change to the directory invalidates every cached page at once (directory/catalog/cache.py).
PAGE_CACHE_SECONDS = envint("PAGE_CACHE_SECONDS", 300)
# Seconds the listing's totals, facet counts and the chain map's counts are kept (same
# invalidation); these are what grows with the directory's size.
COUNT_CACHE_SECONDS = envint("COUNT_CACHE_SECONDS", 3600)
# A search ranks, counts and facets at most this many matches (directory/catalog/search.py):
# a common word then costs what a rare one does.
SEARCH_WINDOW = envint("SEARCH_WINDOW", 1000)
# Which backend answers the catalog's reads (directory/catalog/): "bitmap", the in-memory
# index (fast at any size), or "sql", the reference that reads everything from the database.
CATALOG_BACKEND = os.environ.get("CATALOG_BACKEND", "bitmap")
if CATALOG_BACKEND not in ("bitmap", "sql"):
    raise ImproperlyConfigured("CATALOG_BACKEND must be bitmap or sql")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
# In development static files come from the finders; there is no collected STATIC_ROOT.
warnings.filterwarnings("ignore", message="No directory at", module="whitenoise.base")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Mail: console by default; EMAIL_URL (e.g. smtp://user:pass@host:587/?tls=True) in production.
EMAIL_URL = os.environ.get("EMAIL_URL", "")
if EMAIL_URL:
    vars().update(dj_email_url.parse(EMAIL_URL))
else:
    EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_TIMEOUT = envint("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "chainsite <noreply@chainsite.local>")
CURATOR_EMAILS = envlist("CURATOR_EMAILS")

# Public submissions accepted per IP address per window (seconds); see directory/web/submission_limit.py.
SUBMISSION_RATE_LIMIT = envint("SUBMISSION_RATE_LIMIT", 5)
SUBMISSION_RATE_WINDOW = envint("SUBMISSION_RATE_WINDOW", 3600)

# Production hardening; values are configurable for a TLS-terminating proxy.
if not DEBUG:
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", True)
    # Off only for a production-like run on plain-http loopback (`make serve`).
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = envbool("SECURE_COOKIES", True)
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", False)
if envbool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# How many reverse proxies of ours stand in front of the app (one TLS proxy, or a load
# balancer): the client's address is then read from X-Forwarded-For (directory/client_ip.py)
# for the submission limit, the API throttle and the admin lockout.
TRUSTED_PROXY_COUNT = envint("TRUSTED_PROXY_COUNT", 1 if envbool("BEHIND_TLS_PROXY", False) else 0)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# Content-Security-Policy (django-csp): no inline scripts anywhere; every script is a
# static file. Inline style attributes stay allowed for the admin's widgets.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Admin login protection (django-axes): after AXES_FAILURE_LIMIT failed logins for one
# username or from one address, further attempts are refused for AXES_COOLOFF_HOURS.
# Unlock early with `python manage.py axes_reset` (or axes_reset_username / axes_reset_ip).
AXES_FAILURE_LIMIT = envint("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = envint("AXES_COOLOFF_HOURS", 1)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"
AXES_VERBOSE = False
AXES_CLIENT_IP_CALLABLE = "directory.web.client_ip.client_ip"
# The admin lives at /admin/ unless ADMIN_URL moves it (e.g. "curation-7f3a/").
ADMIN_URL = os.environ.get("ADMIN_URL", "admin/").strip("/") + "/"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# The read API (directory/api/): anonymous clients are limited to API_THROTTLE_RATE
# requests per IP ("120/min"; "off" disables), counted in the cache above; successful
# answers may be cached by clients and proxies for API_CACHE_MAX_AGE seconds.
API_THROTTLE_RATE = os.environ.get("API_THROTTLE_RATE", "").strip() or "120/min"
if API_THROTTLE_RATE.lower() in {"off", "none", "0"}:
    API_THROTTLE_RATE = None
elif not re.fullmatch(r"[1-9][0-9]*/(s|sec|second|m|min|minute|h|hour|d|day)", API_THROTTLE_RATE):
    raise ImproperlyConfigured('API_THROTTLE_RATE must look like "120/min" (per s, min, hour or day).')
API_CACHE_MAX_AGE = envint("API_CACHE_MAX_AGE", 60)

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_THROTTLE_CLASSES": ["directory.api.rate_limit.APIRateThrottle"],
    # The client's address is REMOTE_ADDR, or the one our own proxies put in X-Forwarded-For.
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "EXCEPTION_HANDLER": "directory.api.views.exception_handler",
    # ``format`` is not a parameter of ours; without this, ?format=xml would be a 404.
    "URL_FORMAT_OVERRIDE": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "chainsite API",
    "DESCRIPTION": (
        "Read-only API of the LLM industry-chain directory: the segments of the chain and the "
        "published participants in them, with their offerings and supply relationships. "
        "Lists are paginated as {count, next, previous, results}. Errors are JSON with a `detail` "
        "message (400 malformed parameter, 404 unknown slug or page, 429 too many requests, with "
        "Retry-After). Successful answers carry Cache-Control and an ETag; send it back in "
        "If-None-Match to get a 304 when nothing changed."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "ParticipantKindEnum": "directory.models.Kind",
        "RelationshipKindEnum": "directory.models.RelationshipKind",
        "LinkStatusEnum": "directory.models.LinkStatus",
        "RecordStatusEnum": "directory.models.RecordStatus",
    },
}
