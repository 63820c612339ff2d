"""Production settings, security headers and admin login throttling."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client

pytestmark = pytest.mark.django_db

PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "x" * 64 + "-production-like-secret-for-the-check",
    "ALLOWED_HOSTS": "chainsite.example",
    "CSRF_TRUSTED_ORIGINS": "https://chainsite.example",
    "BEHIND_TLS_PROXY": "true",
    "SECURE_HSTS_PRELOAD": "true",
}


def _manage(*args, env):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_check_deploy():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_secret_key():
    env = {**PRODUCTION_ENV, "SECRET_KEY": ""}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_public_page_sends_security_headers(client):
    response = client.get("/")
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    script_src = next(part for part in csp.split(";") if part.strip().startswith("script-src"))
    assert "'self'" in script_src and "unsafe-inline" not in script_src and "unsafe-eval" not in script_src
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_no_inline_scripts_in_public_templates():
    """Every <script> in our templates loads a static file (or is JSON-LD data)."""
    offenders = []
    for path in (settings.BASE_DIR / "templates").rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for chunk in text.split("<script")[1:]:
            tag = chunk.split(">", 1)[0]
            if "src=" not in tag and "application/ld+json" not in tag and "htmx_script" not in tag:
                offenders.append(str(path))
    assert offenders == []


def _login(client, password, username="curator"):
    return client.post(
        f"/{settings.ADMIN_URL}login/?next=/{settings.ADMIN_URL}",
        {"username": username, "password": password},
        REMOTE_ADDR="203.0.113.9",
    )


def test_repeated_failed_logins_lock_the_account_until_reset(client):
    User.objects.create_user("curator", password="right-horse-battery-staple", is_staff=True)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _login(client, "wrong").status_code == 200  # the form again, with an error
    locked = _login(client, "wrong")
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode()
    # Even the right password is refused while locked.
    assert _login(client, "right-horse-battery-staple").status_code == 429
    call_command("axes_reset_username", "curator")
    response = _login(client, "right-horse-battery-staple")
    assert response.status_code == 302 and response["Location"] == f"/{settings.ADMIN_URL}"


def test_the_lockout_page_speaks_the_curators_language_and_names_the_admin(client):
    User.objects.create_user("curator", password="right-horse-battery-staple", is_staff=True)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "wrong")
    english = _login(client, "wrong").content.decode()
    assert "<title>Too many failed logins | chainsite curation</title>" in english
    assert ">chainsite curation</a>" in english and "Try again in 1 hour." in english
    chinese = client.post(
        f"/{settings.ADMIN_URL}login/",
        {"username": "curator", "password": "wrong"},
        REMOTE_ADDR="203.0.113.9",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    ).content.decode()
    assert "<title>登录失败次数过多 | chainsite 编审后台</title>" in chinese
    assert "请在 1 小时后重试。" in chinese and "登录失败 5 次后" in chinese
    assert "Django" not in chinese and "1:00:00" not in chinese


def test_the_admin_is_called_chainsite_curation_in_both_languages(client):
    User.objects.create_superuser("root", "root@example.com", "right-horse-battery-staple")
    client.force_login(User.objects.get(username="root"))
    english = client.get(f"/{settings.ADMIN_URL}").content.decode()
    assert "<title>Site administration | chainsite curation</title>" in english
    assert '<div id="site-name"><a href="/admin/">chainsite curation</a></div>' in english
    chinese = client.get(f"/{settings.ADMIN_URL}", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "chainsite 编审后台" in chinese and "Django" not in chinese.split("<body")[1].split("<footer")[0]
    login = Client().get(f"/{settings.ADMIN_URL}login/").content.decode()
    assert "<title>Log in | chainsite curation</title>" in login
