"""The documented backup and restore (deploy/backup.sh, deploy/restore.sh) on PostgreSQL.

Dumps the test database with pg_dump -Fc, restores it into a fresh database and runs the
restore script's smoke checks there (migrations current, `check`, every table readable),
then compares rows. PostgreSQL only; skipped without the pg_dump/pg_restore binaries.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from core.models import User

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


def _url(settings: dict, name: str) -> str:
    host = settings.get("HOST") or "127.0.0.1"
    port = settings.get("PORT") or 5432
    user = settings.get("USER") or "postgres"
    password = f":{settings['PASSWORD']}" if settings.get("PASSWORD") else ""
    return f"postgresql://{user}{password}@{host}:{port}/{name}"


@pytest.fixture
def fresh_database():
    import psycopg

    settings = connection.settings_dict
    name = f"{settings['NAME']}_restore"[:63]
    admin_url = _url(settings, "postgres")
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    yield _url(settings, name)
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_dump_and_restore_into_a_fresh_database(tmp_path, fresh_database):
    if not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        pytest.skip("pg_dump/pg_restore not installed")
    User.objects.create(username="backup-check", mobile="13800138000")
    users = User.objects.count()
    source = _url(connection.settings_dict, connection.settings_dict["NAME"])

    env = {**os.environ, "DATABASE_URL": source, "BACKUP_DIR": str(tmp_path)}
    backup = subprocess.run(
        [str(ROOT / "deploy" / "backup.sh")], env=env, capture_output=True, text=True
    )
    assert backup.returncode == 0, backup.stderr
    dumps = sorted(tmp_path.glob("mas-*.dump"))
    assert len(dumps) == 1
    assert (tmp_path / f"{dumps[0].name}.sha256").exists()

    env = {
        **os.environ,
        "PYTHON": sys.executable,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "CELERY_TASK_ALWAYS_EAGER": "1",
    }
    restore = subprocess.run(
        [str(ROOT / "deploy" / "restore.sh"), str(dumps[0]), fresh_database],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert restore.returncode == 0, restore.stdout + restore.stderr
    assert f"restore: users {users}" in restore.stdout
    assert "restore: every table readable" in restore.stdout
    assert restore.stdout.strip().endswith("restore: OK")

    import psycopg

    with psycopg.connect(fresh_database) as restored:
        row = restored.execute(
            "SELECT mobile FROM core_user WHERE username = 'backup-check'"
        ).fetchone()
    assert row == ("13800138000",)
