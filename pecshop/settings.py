"""Settings of the PEC shop, read from the environment (django-environ).

Development defaults need nothing: SQLite under var/, an embedded Celery broker on the
filesystem, e-mails on the console. Production is switched on with DEBUG=false, and then
the values that have no safe default (SECRET_KEY, ALLOWED_HOSTS) must be given or the
process refuses to start.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()
env_file = BASE_DIR / ".env"
if env_file.exists():
    environ.Env.read_env(env_file)


def _required(name: str) -> str:
    value = env.str(name, default="")
    if not value:
        raise ImproperlyConfigured(f"{name} must be set when DEBUG is false.")
    return value


DEBUG = env.bool("DEBUG", default=True)

if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-key-do-not-use-in-production")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
else:
    SECRET_KEY = _required("SECRET_KEY")
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters long.")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG is false.")

CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "payments",
    "addons",
    "customers",
    "mailboxes",
    "billing",
    "area",
    "outbox",
    "operations",
    "ninja",
    "api",
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

ROOT_URLCONF = "pecshop.urls"
WSGI_APPLICATION = "pecshop.wsgi.application"

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
                "billing.context_processors.cart",
            ],
            "libraries": {"jinja": "pecshop.templatetags.jinja"},
            # {% url %} remembering the URLs written whole in a template (known_urls.py).
            "builtins": ["pecshop.templatetags.known_urls"],
        },
    },
    # Jinja2, only for the loops over many rows (the dashboard's table of mailboxes), where
    # the Django template language's cost per printed value adds up; a Django template puts
    # one in place with {% jinja %} (pecshop/templatetags/jinja.py). Autoescaped like DTL.
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "NAME": "jinja2",
        "DIRS": [BASE_DIR / "templates" / "jinja2"],
        "APP_DIRS": False,
        "OPTIONS": {"environment": "pecshop.templatetags.jinja.environment"},
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'pecshop.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A local file shared by the web server and the worker: wait for locks instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    )
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env.bool(
    "DATABASE_PREPARED_STATEMENTS", default=True
):
    # Values travel apart from the SQL (server-side binding), so each persistent connection
    # prepares a statement it has run twice and PostgreSQL stops parsing and planning it
    # again: the planning was most of the database's work on the shop's pages. Set
    # DATABASE_PREPARED_STATEMENTS=false behind a pooler that cannot keep prepared
    # statements (PgBouncer before 1.21 in transaction mode).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"server_side_binding": True, "prepare_threshold": 2}
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "pecshop.cache.ReusingRedisCache",
            "LOCATION": REDIS_URL,
        }
    }
    # Sessions read from Redis, written through to the database (nothing lost on a restart).
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    # Files under VAR_DIR: shared by the web server and the Celery worker on this machine, so
    # a change made by a job (an activation, an expiry) reaches the pages at once.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "it"
LANGUAGES = [("it", "Italiano")]
TIME_ZONE = "Europe/Rome"
USE_I18N = True
USE_TZ = True
USE_THOUSAND_SEPARATOR = True
# One date format everywhere (25/11/2026, 25/11/2026 14:30), the admin included.
FORMAT_MODULE_PATH = ["pecshop.formats"]

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env.bool("STATIC_MANIFEST", default=not DEBUG)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

AUTHENTICATION_BACKENDS = ["customers.backends.CustomerBackend"]
LOGIN_URL = "/accedi/"
CSRF_FAILURE_VIEW = "pecshop.errors.csrf_failure"
LOGIN_REDIRECT_URL = "/"

# E-mail: console in development, any SMTP server through EMAIL_URL in production.
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="PEC Shop <noreply@pecshop.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Only for bench/web_load.py: serves /bench/minimal, the baseline view of the load test.
BENCHMARK_VIEWS = env.bool("BENCHMARK_VIEWS", default=False)

# The certified domains a new address can be bought on; the first is the default.
PEC_DOMAINS = [d.strip().lower() for d in env.list("PEC_DOMAINS", default=["pec.it"]) if d.strip()]
if not PEC_DOMAINS:
    raise ImproperlyConfigured("PEC_DOMAINS must list at least one domain.")


def _served_url(host: str, port: str) -> str:
    """The address `make run` serves (HOST/PORT), as a browser on this machine reaches it."""
    if host in ("", "0.0.0.0", "::", "[::]"):  # noqa: S104 (an address to reach, not to bind)
        host = "127.0.0.1"  # listening on every interface: this machine's own address works
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


# The shop's public address, for links in e-mails and the payment gateway's return URLs.
# Without SITE_URL it follows the HOST and PORT that `make run` serves on, so that
# `PORT=8101 make run` returns payers and e-mail links to port 8101.
SITE_URL = env.str(
    "SITE_URL",
    default=_served_url(env.str("HOST", default="127.0.0.1"), env.str("PORT", default="8000")),
).rstrip("/")

# Payments through django-payments. PAYMENT_GATEWAY=test is a local test gateway (success
# or failure chosen on its page) for development and tests; "stripe" and "paypal" use the
# real providers with their keys from the environment.
PAYMENT_MODEL = "billing.Payment"
PAYMENT_BASE_URL = SITE_URL
PAYMENT_HOST = SITE_URL.split("://", 1)[-1]
PAYMENT_USES_SSL = SITE_URL.startswith("https://")
PAYMENT_GATEWAY = env.str("PAYMENT_GATEWAY", default="test")
PAYMENT_TEST_WEBHOOK_SECRET = env.str("PAYMENT_TEST_WEBHOOK_SECRET", default=SECRET_KEY)
if PAYMENT_GATEWAY == "test":
    PAYMENT_VARIANTS = {
        "card": ("billing.payments.TestGatewayProvider", {}),
        "paypal": ("billing.payments.TestGatewayProvider", {}),
    }
elif PAYMENT_GATEWAY == "stripe":
    PAYMENT_VARIANTS = {
        "card": (
            "billing.stripe_gateway.StripeProvider",
            {
                "api_key": _required("STRIPE_API_KEY"),
                "endpoint_secret": _required("STRIPE_ENDPOINT_SECRET"),
            },
        ),
        "paypal": (
            "billing.paypal_gateway.PayPalProvider",
            {
                "client_id": _required("PAYPAL_CLIENT_ID"),
                "secret": _required("PAYPAL_SECRET"),
                "endpoint": env.str("PAYPAL_ENDPOINT", default="https://api.paypal.com"),
                "capture": True,
            },
        ),
    }
else:
    raise ImproperlyConfigured("PAYMENT_GATEWAY must be 'test' or 'stripe'.")

# Bank details printed on bank-transfer orders.
BANK_ACCOUNT_HOLDER = env.str("BANK_ACCOUNT_HOLDER", default="PEC Shop S.r.l.")
BANK_IBAN = env.str("BANK_IBAN", default="IT60X0542811101000000123456")
BANK_TRANSFER_DAYS = 15

# The seller on invoices (cedente/prestatore of the FatturaPA).
SELLER = {
    "name": env.str("SELLER_NAME", default="PEC Shop S.r.l."),
    "vat_number": env.str("SELLER_VAT_NUMBER", default="12345670017"),
    "fiscal_code": env.str("SELLER_FISCAL_CODE", default="12345670017"),
    "street": env.str("SELLER_STREET", default="Via del Corso 100"),
    "postal_code": env.str("SELLER_POSTAL_CODE", default="00186"),
    "city": env.str("SELLER_CITY", default="Roma"),
    "province": env.str("SELLER_PROVINCE", default="RM"),
    "tax_regime": env.str("SELLER_TAX_REGIME", default="RF01"),
    "email": env.str("SELLER_EMAIL", default="fatture@pecshop.example"),
}

# The mail platform's client; the shipped backend records the calls it is asked to make.
PROVISIONING_BACKEND = env.str(
    "PROVISIONING_BACKEND", default="mailboxes.provisioning.RecordingBackend"
)

# Transmission of invoices to the Sistema di Interscambio (billing.sdi): `folder` writes the
# files to SDI_FOLDER_OUT and reads receipts from SDI_FOLDER_IN; `pec` sends through the
# shop's PEC mailbox (SMTP) to SDI_ADDRESS and reads the receipts from it over IMAP.
SDI_CHANNEL = env.str("SDI_CHANNEL", default="folder")
SDI_FOLDER_OUT = Path(env.str("SDI_FOLDER_OUT", default=str(VAR_DIR / "sdi" / "uscita")))
SDI_FOLDER_IN = Path(env.str("SDI_FOLDER_IN", default=str(VAR_DIR / "sdi" / "ricevute")))
SDI_SMTP_URL = env.str("SDI_SMTP_URL", default="")
SDI_IMAP_URL = env.str("SDI_IMAP_URL", default="")
SDI_ADDRESS = env.str("SDI_ADDRESS", default="sdi01@pec.fatturapa.it")
SDI_SENDER = env.str("SDI_SENDER", default="")
if SDI_CHANNEL not in ("folder", "pec"):
    raise ImproperlyConfigured("SDI_CHANNEL must be 'folder' or 'pec'.")
if SDI_CHANNEL == "pec":
    from billing.sdi.channels import parse_mail_url  # noqa: E402 - validates the URLs

    for _name, _kind in (("SDI_SMTP_URL", "smtp"), ("SDI_IMAP_URL", "imap")):
        try:
            parse_mail_url(vars()[_name], kind=_kind)
        except ValueError as _error:
            raise ImproperlyConfigured(f"{_name}: {_error}") from None

# Celery: Redis when REDIS_URL is set, otherwise an embedded broker on the filesystem so that
# the shop runs its background jobs on a bare machine too.
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {}
else:
    _celery_dir = VAR_DIR / "celery"
    for sub in ("queue", "processed", "control"):
        (_celery_dir / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_celery_dir / "queue"),
        "data_folder_out": str(_celery_dir / "queue"),
        "processed_folder": str(_celery_dir / "processed"),
        "control_folder": str(_celery_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = False
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
from celery.schedules import crontab  # noqa: E402 - needed by the schedule below only

CELERY_BEAT_SCHEDULE = {
    # Scheduled catalogue prices become the current ones just after midnight (orders are
    # priced from the price history anyway; this keeps the stored current price in step).
    "apply-price-changes": {
        "task": "addons.tasks.apply_price_changes",
        "schedule": crontab(hour=0, minute=5),
    },
    "retry-provisioning": {
        "task": "mailboxes.tasks.retry_failed_provisioning",
        "schedule": 15 * 60,
    },
    # The lifecycle day (expiries, grace, renewals, reminders, unpaid orders, usage alerts)
    # at 04:00 Europe/Rome (CELERY_TIMEZONE): outside 02:00-03:00, which the spring DST night
    # skips and the autumn one runs twice. Every step is idempotent and catches up.
    "lifecycle-day": {
        "task": "billing.tasks.run_lifecycle_day",
        "schedule": crontab(hour=4, minute=0),
    },
    # Invoices to the SDI: what the after-commit task did not send, every 5 minutes; the
    # SDI's receipts every 15 minutes.
    "sdi-send": {
        "task": "billing.tasks.sdi_send_pending",
        "schedule": 5 * 60,
    },
    "sdi-receipts": {
        "task": "billing.tasks.sdi_read_receipts",
        "schedule": 15 * 60,
    },
    # Refunds of duplicate charges and withdrawals that the after-commit task did not do.
    "refunds-sweep": {
        "task": "billing.tasks.refunds_sweep",
        "schedule": 10 * 60,
    },
}

# Production hardening; every value can be relaxed explicitly (e.g. TLS terminated elsewhere).
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    if env.bool("BEHIND_TLS_PROXY", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # The embedded filesystem broker has no host name; kombu warns about it on every send.
    "loggers": {"kombu.connection": {"level": "ERROR" if not REDIS_URL else "WARNING"}},
}


# --- Operations: health checks, error reporting, logs, surviving a Redis outage -----------
# (README "Operations"). Kept in one block.

# Redis answers fast or not at all: no retries inside a page, short timeouts. The cache
# treats an error as a miss (pecshop.cache); a task that cannot be queued is left to the
# sweeps (pecshop.celery.enqueue), so a page that committed its change never fails.
REDIS_CACHE_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 2}
REDIS_BROKER_OPTIONS = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
    "socket_connect_timeout": 2,
}
if REDIS_URL:
    CACHES["default"]["OPTIONS"] = dict(REDIS_CACHE_OPTIONS)
    CELERY_BROKER_TRANSPORT_OPTIONS.update(REDIS_BROKER_OPTIONS)
CELERY_BEAT_SCHEDULE.update(
    {
        # E-mails the broker did not take, or whose sending failed and is due again.
        "sweep-outbox": {"task": "outbox.tasks.sweep_outbox", "schedule": 60},
    }
)
# Beat writes its schedule file after every task it sends; the beat container's
# healthcheck reads the file's age (`manage.py health --check beat`).
CELERY_BEAT_SYNC_EVERY = 1

# Health: /healthz (liveness: the process answers) and /readyz (readiness: every check).
HEALTH_NIGHTLY_MAX_AGE_HOURS = env.int("HEALTH_NIGHTLY_MAX_AGE_HOURS", default=26)
HEALTH_BACKLOG_MAX_AGE_MINUTES = env.int("HEALTH_BACKLOG_MAX_AGE_MINUTES", default=30)
HEALTH_BACKLOG_MAX_COUNT = env.int("HEALTH_BACKLOG_MAX_COUNT", default=1000)
HEALTH_WORKER_TIMEOUT = env.float("HEALTH_WORKER_TIMEOUT", default=2.0)
HEALTH_BEAT_MAX_AGE_MINUTES = env.int("HEALTH_BEAT_MAX_AGE_MINUTES", default=5)
HEALTH_WORKER_NAME = env.str("HEALTH_WORKER_NAME", default="")  # empty: any worker answers
if not DEBUG:
    SECURE_REDIRECT_EXEMPT = [*SECURE_REDIRECT_EXEMPT, r"^readyz$"]

# Logs: LOG_FORMAT=json for one JSON object per line (request id, task id, run id, counts).
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured("LOG_FORMAT must be 'plain' or 'json'.")
MIDDLEWARE.insert(0, "pecshop.observability.RequestIdMiddleware")
LOGGING["filters"] = {"context": {"()": "pecshop.observability.ContextFilter"}}
LOGGING["formatters"]["json"] = {"()": "pecshop.observability.JsonFormatter"}
LOGGING["formatters"]["plain"]["()"] = "pecshop.observability.PlainFormatter"
LOGGING["handlers"]["console"]["filters"] = ["context"]
LOGGING["handlers"]["console"]["formatter"] = LOG_FORMAT

# Error reporting: sentry-sdk, only when SENTRY_DSN is set (nothing is sent otherwise).
SENTRY_DSN = env.str("SENTRY_DSN", default="")
SENTRY_ENVIRONMENT = env.str("SENTRY_ENVIRONMENT", default="production" if not DEBUG else "dev")
SENTRY_TRACES_SAMPLE_RATE = env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0)
if not 0 <= SENTRY_TRACES_SAMPLE_RATE <= 1:
    raise ImproperlyConfigured("SENTRY_TRACES_SAMPLE_RATE must be between 0 and 1.")
if SENTRY_DSN:
    from pecshop.observability import sentry_init  # noqa: E402

    sentry_init(
        dsn=SENTRY_DSN,
        environment=SENTRY_ENVIRONMENT,
        release=env.str("SENTRY_RELEASE", default="") or None,
        traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE,
    )
# --- Account security: throttled logins, two-factor authentication, strict headers -------
# (django-axes, django-otp, django-csp; pecshop/security.py, customers/two_factor.py)
INSTALLED_APPS = [
    # The admin site that asks staff for a second factor (pecshop.admin_site).
    "pecshop.apps.ShopAdminConfig" if app == "django.contrib.admin" else app
    for app in INSTALLED_APPS
] + [
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "csp",
]
MIDDLEWARE.insert(MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
                  "pecshop.security.RejectNulMiddleware")  # fmt: skip
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "django_otp.middleware.OTPMiddleware",
)
MIDDLEWARE += [
    "csp.middleware.CSPMiddleware",
    "pecshop.security.SecurityHeadersMiddleware",
    # Last: turns a lockout noticed by a login view into the lockout page.
    "axes.middleware.AxesMiddleware",
]
# Axes first: it refuses a locked-out account and client address before the password check.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", *AUTHENTICATION_BACKENDS]

# Login throttling, keyed by the account (e-mail, staff user name or mailbox address) and
# the client address together: ten wrong passwords are answered as such, the eleventh locks
# that account from that address for LOGIN_LOCKOUT_MINUTES, even with the right password.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=11)
AXES_COOLOFF_TIME = env.int("LOGIN_LOCKOUT_MINUTES", default=30) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "pecshop.security.lockout_response"
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_USERNAME_CALLABLE = "pecshop.security.login_username"
if env.bool("BEHIND_TLS_PROXY", default=False):
    # The proxy in front sets X-Forwarded-For; its last entry is the client it saw.
    AXES_CLIENT_IP_CALLABLE = "pecshop.security.client_address"

# Rate limits of the public JSON APIs, per client address: requests per minute.
API_RATE_LIMIT = env.int("API_RATE_LIMIT", default=120)

# Two-factor authentication (TOTP + recovery codes); required for every staff account.
OTP_TOTP_ISSUER = "PEC Shop"
SIGNUP_CONFIRM_MAX_AGE = 3 * 24 * 3600  # seconds a signup confirmation link stays valid

# Content-Security-Policy: no inline script or style anywhere (django-csp).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}
PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(), camera=(), display-capture=(), geolocation=(), "
    "gyroscope=(), magnetometer=(), microphone=(), midi=(), payment=(), usb=()"
)
# Pages that show one customer's data: never kept by a browser or a shared cache.
PRIVATE_PATH_PREFIXES = ("/area-clienti/", "/ordini/", "/checkout/", "/carrello/", "/admin/",
                         "/pagamenti/")  # fmt: skip
# --- the JSON API (/api/v1/) ---------------------------------------------------------------
# Requests per minute per token; beyond it the API answers 429.
API_RATE_LIMIT_PER_MINUTE = env.int("API_RATE_LIMIT_PER_MINUTE", default=600)
# Webhooks: lifecycle events collected and due deliveries (retries) sent every minute.
CELERY_BEAT_SCHEDULE["webhooks"] = {
    "task": "api.tasks.collect_webhooks",
    "schedule": 60.0,
}
