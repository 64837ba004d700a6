#!/usr/bin/env bash
# Dump the database named by DATABASE_URL in PostgreSQL's custom format (pg_dump -Fc),
# verify the archive is readable, and keep BACKUP_KEEP_DAYS days of them (docs/backup.md).
set -euo pipefail
: "${DATABASE_URL:?DATABASE_URL must name the database}"
dir=${BACKUP_DIR:-/var/backups/mas}
keep=${BACKUP_KEEP_DAYS:-14}
mkdir -p "${dir}"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
file="${dir}/mas-${stamp}.dump"
# libpq reads postgres:// URLs; --no-owner/--no-acl are applied at restore time instead.
pg_dump --format=custom --compress=6 --file="${file}.partial" "${DATABASE_URL}"
pg_restore --list "${file}.partial" >/dev/null   # the archive's table of contents is sound
mv "${file}.partial" "${file}"
sha256sum "${file}" >"${file}.sha256"
find "${dir}" -name 'mas-*.dump*' -mtime "+${keep}" -delete
echo "backup: ${file} ($(du -h "${file}" | cut -f1))"
