#!/usr/bin/env bash
# Restore a pg_dump -Fc archive into an existing, empty database and smoke-check it
# (docs/backup.md). Usage: deploy/restore.sh DUMP_FILE TARGET_DATABASE_URL
# Run from the application directory with the production environment loaded.
set -euo pipefail
cd "$(dirname "$0")/.."
dump=${1:?usage: deploy/restore.sh DUMP_FILE TARGET_DATABASE_URL}
target=${2:?usage: deploy/restore.sh DUMP_FILE TARGET_DATABASE_URL}
python=${PYTHON:-python}

if [ -f "${dump}.sha256" ]; then
  (cd "$(dirname "${dump}")" && sha256sum --check --quiet "$(basename "${dump}").sha256")
fi
pg_restore --list "${dump}" >/dev/null
# Ownership and grants belong to the target cluster's roles, not the dump's.
pg_restore --no-owner --no-acl --exit-on-error --jobs="${RESTORE_JOBS:-2}" \
  --dbname="${target}" "${dump}"

echo "restore: smoke checks"
export DATABASE_URL="${target}"
"${python}" manage.py migrate --check            # schema is at the code's migrations
"${python}" manage.py check --database default   # models and database agree
"${python}" manage.py healthcheck --only database
"${python}" manage.py shell -c "
from django.apps import apps
from django.contrib.auth import get_user_model
print('restore: users', get_user_model().objects.count())
for model in apps.get_models():
    model._default_manager.order_by().first()  # every table is readable
print('restore: every table readable')
"
echo "restore: OK"
