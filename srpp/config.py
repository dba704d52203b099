"""Configuration: infrastructure settings from the environment only.

Business parameters (thresholds, percentages, rates) live in data tables and
settings rows, never here.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = PROJECT_ROOT / "instance"

INSECURE_DEFAULT_SECRET = "dev-only-insecure-secret-change-me"


class ConfigError(RuntimeError):
    """Raised when the app is started with a configuration that must not run."""


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def load_config(overrides: dict | None = None) -> dict:
    env = os.environ
    INSTANCE_DIR.mkdir(exist_ok=True)
    cfg: dict = {
        "ENV_NAME": env.get("SRPP_ENV", "development"),
        "SECRET_KEY": env.get("SECRET_KEY", INSECURE_DEFAULT_SECRET),
        "DATABASE_URL": env.get("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'srpp.sqlite3'}"),
        "REDIS_URL": env.get("REDIS_URL") or None,
        "INSTANCE_DIR": str(INSTANCE_DIR),
        "FILES_DIR": env.get("SRPP_FILES_DIR", str(INSTANCE_DIR / "files")),
        "MAIL_BACKEND": env.get("SRPP_MAIL_BACKEND", "file"),  # file | smtp | memory
        "MAIL_FILE_DIR": env.get("SRPP_MAIL_DIR", str(INSTANCE_DIR / "mail")),
        "MAIL_SMTP_HOST": env.get("SRPP_SMTP_HOST", "localhost"),
        "MAIL_SMTP_PORT": int(env.get("SRPP_SMTP_PORT", "25")),
        "MAIL_FROM": env.get("SRPP_MAIL_FROM", "srpp@localhost"),
        "BASE_URL": env.get("SRPP_BASE_URL", "http://127.0.0.1:5000"),
        "LANGUAGES": ["lt", "en", "lv"],
        "BABEL_DEFAULT_LOCALE": "lt",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Vilnius",
        "BABEL_TRANSLATION_DIRECTORIES": str(Path(__file__).parent / "translations"),
        "WTF_CSRF_ENABLED": True,
        "WTF_CSRF_TIME_LIMIT": None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool(env.get("SRPP_SECURE_COOKIES"), False),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "PERMANENT_SESSION_LIFETIME": 8 * 3600,
        "MAX_CONTENT_LENGTH": int(env.get("SRPP_MAX_UPLOAD_BYTES", str(10 * 1024 * 1024))),
        "ARGON2_PROFILE": env.get("SRPP_ARGON2_PROFILE", "default"),
        "LOGIN_MAX_FAILURES": 5,
        "LOGIN_LOCK_MINUTES": 15,
        "LOGIN_RATE_LIMIT_PER_ADDRESS": env.get("SRPP_LOGIN_RATE_LIMIT", "30 per 15 minutes"),
        # password reset links: valid this many seconds; requests limited per address
        "PASSWORD_RESET_MAX_AGE": int(env.get("SRPP_PASSWORD_RESET_MAX_AGE", "3600")),
        "PASSWORD_RESET_RATE_LIMIT": env.get("SRPP_PASSWORD_RESET_RATE_LIMIT", "10 per hour"),
        "RATELIMIT_HEADERS_ENABLED": True,
        # a Redis outage must not lock everybody out: limits fall back to memory, errors are logged
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
        "WORKER_ALIVE_SECONDS": 120,
        # JSON API: requests per token (or per address without one)
        "API_RATE_LIMIT": env.get("SRPP_API_RATE_LIMIT", "300 per minute"),
        # OCDS: the registered ocid prefix of the publisher, and the licence of the published data
        "OCDS_PREFIX": env.get("SRPP_OCDS_PREFIX", "ocds-srpp01"),
        "OCDS_LICENSE": env.get("SRPP_OCDS_LICENSE", "https://creativecommons.org/licenses/by/4.0/"),
        "PAGE_CACHE": _bool(env.get("SRPP_PAGE_CACHE"), True),
        "SQLALCHEMY_ECHO": _bool(env.get("SRPP_SQL_ECHO")),
        # Redis re-delivers a task whose worker died after this many seconds (tasks acknowledge late)
        "CELERY_VISIBILITY_TIMEOUT": int(env.get("SRPP_CELERY_VISIBILITY_TIMEOUT", "600")),
        # LibreOffice for PDF conversion: a path, or found on PATH (soffice / libreoffice)
        "LIBREOFFICE": env.get("SRPP_LIBREOFFICE") or None,
        "PDF_TIMEOUT_SECONDS": int(env.get("SRPP_PDF_TIMEOUT", "180")),
        # fault injection for the worker-crash test only: seconds a document job waits before rendering
        "DOCUMENT_TEST_DELAY": float(env.get("SRPP_DOCUMENT_TEST_DELAY", "0")),
    }
    if overrides:
        cfg.update(overrides)
    cfg["CELERY_EAGER"] = cfg.get("CELERY_EAGER", cfg["REDIS_URL"] is None)
    cfg["RATELIMIT_STORAGE_URI"] = cfg.get("RATELIMIT_STORAGE_URI") or (cfg["REDIS_URL"] or "memory://")
    if cfg["ENV_NAME"] == "production":
        if cfg["SECRET_KEY"] in (None, "", INSECURE_DEFAULT_SECRET) or len(cfg["SECRET_KEY"]) < 32:
            raise ConfigError("SECRET_KEY must be set to a random value of at least 32 characters in production")
        cfg["SESSION_COOKIE_SECURE"] = True
        cfg["REMEMBER_COOKIE_SECURE"] = True
    return cfg
