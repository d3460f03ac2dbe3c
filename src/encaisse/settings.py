# SPDX-License-Identifier: AGPL-3.0-or-later
"""The one settings module, driven by environment variables.

Defaults are safe for a laptop: SQLite in ``./data``, no secret to set, no network. Production sets
``ENCAISSE_ENV=production`` and must then provide a strong ``SECRET_KEY`` (Django's own deployment
check criteria), ``ALLOWED_HOSTS`` and a ``DATABASE_URL`` (PostgreSQL), with ``DEBUG`` off: the
settings refuse to load otherwise (ImproperlyConfigured names every problem) rather than run
insecurely. Every page carries a Content-Security-Policy (``SECURE_CSP``). It must
also provide the seller's legal identity (``ENCAISSE_SELLER_*``), which has no default there:
``encaisse check --deploy`` names each missing or invalid variable and the web process refuses to
start without them (not here at import, so that the check can list them all).
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import dj_database_url
from django.core.checks.security.base import (
    SECRET_KEY_INSECURE_PREFIX,
    SECRET_KEY_MIN_LENGTH,
    SECRET_KEY_MIN_UNIQUE_CHARACTERS,
)
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent.parent


def env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def env_bool(name: str, default: bool) -> bool:
    value = env(name)
    if value is None:
        return default
    return value.lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in (env(name, default) or "").split(",") if item.strip()]


ENVIRONMENT = env("ENCAISSE_ENV", "development")
PRODUCTION = ENVIRONMENT == "production"
DATA_DIR = Path(env("ENCAISSE_DATA_DIR", str(PROJECT_DIR / "data")) or "data")

DEBUG = env_bool("DEBUG", not PRODUCTION)


def weak_secret_key(key: str) -> bool:
    """Django's own ``check --deploy`` criteria (security.W009), refused outright in production.

    Sessions, password-reset links and signed cookies are only as strong as this key.

    >>> weak_secret_key("x")
    True
    >>> weak_secret_key("django-insecure-" + "abcdefghij" * 5)
    True
    >>> weak_secret_key("ab" * 30)
    True
    >>> weak_secret_key("abcdefghij" * 5)
    False
    """
    return (
        len(key) < SECRET_KEY_MIN_LENGTH
        or len(set(key)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS
        or key.startswith(SECRET_KEY_INSECURE_PREFIX)
    )


def production_problems(
    *,
    secret_key: str | None,
    debug: bool,
    database_url: str | None,
    allowed_hosts: list[str],
    staff_2fa: bool,
) -> list[str]:
    """What makes production settings unsafe to start with: all of them, so one restart fixes all.

    >>> safe = dict(
    ...     secret_key="abcdefghij" * 5, debug=False, database_url="postgres://h/db",
    ...     allowed_hosts=["billing.example.com"], staff_2fa=True,
    ... )
    >>> production_problems(**safe)
    []
    >>> unsafe = dict(secret_key=None, debug=True, database_url=None, allowed_hosts=[])
    >>> len(production_problems(**unsafe, staff_2fa=False))
    5
    """
    problems = []
    if secret_key is None:
        problems.append("SECRET_KEY must be set when ENCAISSE_ENV=production.")
    elif weak_secret_key(secret_key):
        problems.append(
            f"SECRET_KEY is too weak: it needs at least {SECRET_KEY_MIN_LENGTH} characters, "
            f"{SECRET_KEY_MIN_UNIQUE_CHARACTERS} of them different, and must not start with "
            f'{SECRET_KEY_INSECURE_PREFIX!r} (make one with `python -c "from '
            'django.core.management.utils import get_random_secret_key as k; print(k())"`).'
        )
    if debug:
        problems.append("DEBUG must be off when ENCAISSE_ENV=production (it shows code and data).")
    if database_url is None:
        problems.append(
            "DATABASE_URL must be set when ENCAISSE_ENV=production "
            "(e.g. postgres://encaisse@db.internal:5432/encaisse)."
        )
    if not allowed_hosts:
        problems.append("ALLOWED_HOSTS must be set when ENCAISSE_ENV=production.")
    if not staff_2fa:
        problems.append("ENCAISSE_STAFF_2FA cannot be turned off when ENCAISSE_ENV=production.")
    return problems


# Development only: a fixed, obviously-unsafe key so sessions survive restarts of the demo (production
# refuses to start without its own, below).
SECRET_KEY = (
    env("SECRET_KEY") or "django-insecure-encaisse-development-only-never-use-in-production"
)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    # The admin with its default site replaced by the staff site (second factor, dashboard).
    "encaisse.web.apps.StaffAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks_db",
    "ninja",  # API docs page with local Swagger assets
    "django_otp",
    "django_otp.plugins.otp_totp",
    "encaisse.core",
    "encaisse.customers",
    "encaisse.ledger",
    "encaisse.invoicing",
    "encaisse.payments",
    "encaisse.api",
    "encaisse.notifications",
    "encaisse.web",
]

MIDDLEWARE = [
    # First: gives the JSON error shape to any error answer under /api/, whoever made it.
    "encaisse.api.errors.JsonErrorsMiddleware",
    # A body over DATA_UPLOAD_MAX_MEMORY_SIZE gets 413 before anything reads it.
    "encaisse.core.middleware.RequestTooLargeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # Outside the others, so that it marks their answers too (the JSON shape keeps its header).
    "encaisse.api.headers.NoStoreMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "encaisse.urls"
WSGI_APPLICATION = "encaisse.wsgi.application"

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
                "django.template.context_processors.i18n",
                "encaisse.web.panel.context.panel",
            ],
        },
    },
]

# --- Database ------------------------------------------------------------------------------------
SQLITE_PATH = DATA_DIR / "encaisse.sqlite3"
DATABASE_URL = env("DATABASE_URL", f"sqlite:///{SQLITE_PATH}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL or "", conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # Connections are kept between requests, as on PostgreSQL: opening one (and registering
    # Django's SQL functions) cost 1.3 ms of the panel's ~6 ms per page (docs/benchmarks.md).
    # IMMEDIATE takes the write lock at BEGIN, so a read-then-write transaction never fails with
    # SQLITE_BUSY half-way; WAL lets readers run beside the writer; FULL keeps every commit durable.
    # The scratch tables of a billing chunk (a few thousand rows) and sorts stay in memory. A new
    # database gets 16 KiB pages (an existing one keeps its own: the pragma is then a no-op): the
    # billing run appends ~2 MB per chunk, written to the WAL one page at a time, and took 7-9 %
    # less time than with 4 KiB pages, reads no slower. The WAL is copied back into the database
    # every 2,500 pages (40 MB) rather than every 4 MB: pages that consecutive chunks write again
    # are copied once (docs/benchmarks.md).
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA page_size=16384; PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
        "PRAGMA temp_store=MEMORY; PRAGMA wal_autocheckpoint=2500;",
    }
    DATABASES["default"]["TEST"] = {"NAME": env("ENCAISSE_TEST_SQLITE_NAME")}
else:
    DATABASES["default"]["TEST"] = {"NAME": env("ENCAISSE_TEST_DATABASE_NAME")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Background tasks (Django's tasks framework, database-backed: no broker) ---------------------
TASKS = {
    "default": {
        "BACKEND": env("ENCAISSE_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

# --- Auth, i18n, static --------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("French")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env("TIME_ZONE", "Europe/Paris")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("ENCAISSE_MEDIA_ROOT", str(DATA_DIR / "media")) or "media")
AUTHENTICATION_BACKENDS = ["encaisse.web.panel.backends.PanelModelBackend"]
# Customers sign in to the panel; staff sign in to the back-office at /admin/ (its own login).
LOGIN_URL = "panel:login"
LOGIN_REDIRECT_URL = "panel:dashboard"
PASSWORD_RESET_TIMEOUT = 2 * 3600  # a reset link is valid for two hours
# Static assets are served by the app itself (WhiteNoise): no CDN, no external request from pages.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise expects it, even if empty
# Sign-in and password-reset throttle, panel and back-office (web/throttle.py): attempts counted in
# the database before the password is checked, so shared by every web process and never raced.
ENCAISSE_LOGIN_MAX_FAILURES = int(env("ENCAISSE_LOGIN_MAX_FAILURES", "5") or 5)
ENCAISSE_LOGIN_MAX_FAILURES_PER_IP = int(env("ENCAISSE_LOGIN_MAX_FAILURES_PER_IP", "30") or 30)
ENCAISSE_LOGIN_LOCKOUT_MINUTES = int(env("ENCAISSE_LOGIN_LOCKOUT_MINUTES", "15") or 15)
ENCAISSE_PASSWORD_RESET_MAX_PER_ADDRESS = int(
    env("ENCAISSE_PASSWORD_RESET_MAX_PER_ADDRESS", "3") or 3
)
ENCAISSE_PASSWORD_RESET_MAX_PER_IP = int(env("ENCAISSE_PASSWORD_RESET_MAX_PER_IP", "10") or 10)

_SMTP = "django.core.mail.backends.smtp.EmailBackend"
_MAIL_BACKEND = env(
    "EMAIL_BACKEND", _SMTP if PRODUCTION else "django.core.mail.backends.console.EmailBackend"
)
MAILERS = {
    "default": {
        "BACKEND": _MAIL_BACKEND,
        "OPTIONS": {
            "host": env("EMAIL_HOST", "localhost"),
            "port": int(env("EMAIL_PORT", "587") or 587),
            "username": env("EMAIL_HOST_USER", ""),
            "password": env("EMAIL_HOST_PASSWORD", ""),
            "use_tls": env_bool("EMAIL_USE_TLS", True),
            "timeout": 10,
        }
        if _MAIL_BACKEND == _SMTP
        else {},
    }
}
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "facturation@example.invalid")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "encaisse": {"handlers": ["console"], "level": env("ENCAISSE_LOG_LEVEL", "INFO")},
        "django.tasks": {"handlers": ["console"], "level": "INFO"},
    },
}

# --- Content-Security-Policy (every page, every environment) ------------------------------------
# Only our own origin may provide scripts, styles, fonts, frames and form targets: an injected
# <script> or style="" does not run, and no other site may frame a page (clickjacking). So our
# templates carry no inline script or style (web/static holds them). No page needs a nonce: the
# admin's and Swagger UI's templates (the API docs) load their scripts from files and keep their
# settings in data attributes or JSON (tests/browser/test_csp.py walks them). A third-party page
# that one day needs one would get CSP.NONCE here, the "csp" context processor and
# {{ csp_nonce }} in its template, and only that. data: images are SVG icons in Swagger UI's CSS.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# The language cookie says nothing secret but is set on every page: as guarded as the session's.
LANGUAGE_COOKIE_SECURE = PRODUCTION
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"

# --- Production hardening (manage.py check --deploy must be clean) -------------------------------
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(env("SECURE_HSTS_SECONDS", "31536000") or 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SESSION_COOKIE_HTTPONLY = True
    X_FRAME_OPTIONS = "DENY"
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"

# --- Staff second factor (TOTP codes, django-otp) --------------------------------------------------
# The back-office moves money, so a stolen staff password alone must not open it. ENCAISSE_STAFF_2FA
# is on unless set to 0/false/no/off; production refuses to turn it off. Unknown values are refused
# rather than guessed, since a typo must not silently disable the second factor.
_STAFF_2FA_VALUES = {"1": True, "true": True, "yes": True, "on": True}
_STAFF_2FA_VALUES |= {"0": False, "false": False, "no": False, "off": False}
_staff_2fa = (env("ENCAISSE_STAFF_2FA", "1") or "1").strip().lower()
if _staff_2fa not in _STAFF_2FA_VALUES:
    raise ImproperlyConfigured("ENCAISSE_STAFF_2FA must be 1 (on) or 0 (off).")
ENCAISSE_STAFF_2FA = _STAFF_2FA_VALUES[_staff_2fa]
OTP_TOTP_ISSUER = "Encaisse"  # the name authenticator apps show next to the code
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # staff never see each other's TOTP secrets in the admin

# --- Production refuses to start unsafe (every problem named at once) ----------------------------
if PRODUCTION and (
    _problems := production_problems(
        secret_key=env("SECRET_KEY"),
        debug=DEBUG,
        database_url=env("DATABASE_URL"),
        allowed_hosts=ALLOWED_HOSTS,
        staff_2fa=ENCAISSE_STAFF_2FA,
    )
):
    raise ImproperlyConfigured("\n".join(_problems))

# --- Encaisse: the provider's business settings --------------------------------------------------
ENCAISSE_CURRENCY = "EUR"
# VAT rates the provider may invoice, in percent. Anything else is refused (French rates by default).
ENCAISSE_VAT_RATES = [Decimal(r) for r in env_list("ENCAISSE_VAT_RATES", "20,10,5.5,2.1,0")]
# Overdraft (in currency units) granted by default to new customers; 0 = debit only what is there.
ENCAISSE_DEFAULT_OVERDRAFT = Decimal(env("ENCAISSE_DEFAULT_OVERDRAFT", "0") or "0")
# Customer e-mails (invoice issued, payment received, balance low) and the panel's address in them.
ENCAISSE_EMAIL_NOTIFICATIONS = env_bool("ENCAISSE_EMAIL_NOTIFICATIONS", True)
ENCAISSE_PUBLIC_URL = env("ENCAISSE_PUBLIC_URL", "http://127.0.0.1:8000")
# The panel warns when the prepaid balance covers fewer days of recurring charges than this.
ENCAISSE_LOW_BALANCE_DAYS = int(env("ENCAISSE_LOW_BALANCE_DAYS", "15") or 15)
ENCAISSE_PAYMENT_TERMS_DAYS = int(env("ENCAISSE_PAYMENT_TERMS_DAYS", "30") or 30)
ENCAISSE_INVOICE_PREFIX = env("ENCAISSE_INVOICE_PREFIX", "FA")
ENCAISSE_CREDIT_NOTE_PREFIX = env("ENCAISSE_CREDIT_NOTE_PREFIX", "AV")
ENCAISSE_BILLING_CHUNK_SIZE = int(env("ENCAISSE_BILLING_CHUNK_SIZE", "2000") or 2000)
# Chunks a billing run works on at once per process (PostgreSQL; SQLite has a single writer).
# Chunks queue for their last statements (invoice numbers), so one more worker than the database
# server's cores keeps them busy: 3 measured best on a 2-core server (docs/benchmarks.md).
ENCAISSE_BILLING_WORKERS = max(1, int(env("ENCAISSE_BILLING_WORKERS", "3") or 3))
ENCAISSE_RENDER_PDF = env_bool("ENCAISSE_RENDER_PDF", True)
# Payment providers (dotted paths of ``payments.providers.base.PaymentProvider`` classes), e.g.
# ``encaisse.payments.providers.fake.FakeProvider`` for development; none by default.
ENCAISSE_PAYMENT_PROVIDERS = env_list("ENCAISSE_PAYMENT_PROVIDERS", "")
# Ordered collection policy: what settles an invoice left due after issuance.
ENCAISSE_COLLECTION_POLICY = env_list("ENCAISSE_COLLECTION_POLICY", "prepaid_balance,bank_transfer")
# Online top-ups: bounds of one top-up (currency units), whatever the provider.
ENCAISSE_TOP_UP_MIN = Decimal(env("ENCAISSE_TOP_UP_MIN", "5") or "5")
ENCAISSE_TOP_UP_MAX = Decimal(env("ENCAISSE_TOP_UP_MAX", "10000") or "10000")
# PayPal (encaisse.payments.providers.paypal.PayPalProvider): REST app credentials, the id of the
# webhook registered for https://<host>/payments/paypal_checkout/events/, and the API (sandbox
# unless https://api-m.paypal.com is set).
ENCAISSE_PAYPAL_CLIENT_ID = env("ENCAISSE_PAYPAL_CLIENT_ID", "")
ENCAISSE_PAYPAL_CLIENT_SECRET = env("ENCAISSE_PAYPAL_CLIENT_SECRET", "")
ENCAISSE_PAYPAL_WEBHOOK_ID = env("ENCAISSE_PAYPAL_WEBHOOK_ID", "")
ENCAISSE_PAYPAL_API_URL = env("ENCAISSE_PAYPAL_API_URL", "https://api-m.sandbox.paypal.com")
# Stripe (encaisse.payments.providers.stripe.StripeProvider): secret and publishable keys, the
# signing secret(s) of the endpoint https://<host>/payments/stripe/events/ (two, comma-separated,
# while rotating), and the API base (tests point it at localstripe).
ENCAISSE_STRIPE_SECRET_KEY = env("ENCAISSE_STRIPE_SECRET_KEY", "")
ENCAISSE_STRIPE_PUBLISHABLE_KEY = env("ENCAISSE_STRIPE_PUBLISHABLE_KEY", "")
ENCAISSE_STRIPE_WEBHOOK_SECRETS = env_list("ENCAISSE_STRIPE_WEBHOOK_SECRETS", "")
ENCAISSE_STRIPE_API_BASE = env("ENCAISSE_STRIPE_API_BASE", "https://api.stripe.com")
ENCAISSE_STRIPE_JS_URL = env("ENCAISSE_STRIPE_JS_URL", "https://js.stripe.com/v3/")

# --- The seller: the provider's own legal identity -----------------------------------------------
# Printed on every invoice (CGI ann. II art. 242 nonies A, Code de commerce R123-237), shown on the
# panel's transfer page and encoded in its EPC QR code, so customers send money to this IBAN. Outside
# production an example company fills the gaps (the demo and the tests run with it). Production has
# no default: a variable not set stays empty, `encaisse check --deploy` names every missing or invalid
# one (customers/checks.py, same validators as customers') and the web process refuses to start.
# The one-line ENCAISSE_SELLER_ADDRESS is no longer read (the check warns when it is still set): the
# address is structured, as SEPA (November 2026) and Factur-X need its parts separately.
ENCAISSE_SELLER_VARIABLES = {  # key of ENCAISSE_SELLER: the environment variable that sets it
    "name": "ENCAISSE_SELLER_NAME",
    "legal_form": "ENCAISSE_SELLER_LEGAL_FORM",  # legal form, share capital, RCS registration
    "address_line1": "ENCAISSE_SELLER_ADDRESS_LINE1",
    "address_line2": "ENCAISSE_SELLER_ADDRESS_LINE2",  # the only optional one
    "postal_code": "ENCAISSE_SELLER_POSTAL_CODE",
    "city": "ENCAISSE_SELLER_CITY",
    "country": "ENCAISSE_SELLER_COUNTRY",  # ISO 3166 code, e.g. FR
    "siret": "ENCAISSE_SELLER_SIRET",  # the SIREN is its first nine digits
    "vat_number": "ENCAISSE_SELLER_VAT",
    "iban": "ENCAISSE_SELLER_IBAN",
    "bic": "ENCAISSE_SELLER_BIC",
    "email": "ENCAISSE_SELLER_EMAIL",
}
_EXAMPLE_SELLER = {
    "name": "Hébergeur Exemple SAS",
    "legal_form": "SAS au capital de 10 000 €, RCS Paris 732 829 320",
    "address_line1": "12 rue de l'Exemple",
    "postal_code": "75011",
    "city": "Paris",
    "country": "FR",
    "siret": "73282932000074",
    "vat_number": "FR44732829320",
    "iban": "FR7630006000011234567890189",
    "bic": "AGRIFRPPXXX",
    "email": "facturation@example.invalid",
}
ENCAISSE_SELLER = {
    key: env(variable, "" if PRODUCTION else _EXAMPLE_SELLER.get(key, "")) or ""
    for key, variable in ENCAISSE_SELLER_VARIABLES.items()
}
