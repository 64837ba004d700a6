#!/usr/bin/env bash
# Production smoke test (CI): gunicorn with production settings against DATABASE_URL,
# then the liveness and readiness probes, a hashed static file served by whitenoise,
# the HTTPS redirect and the protected /metrics. Needs DATABASE_URL (PostgreSQL);
# CELERY_BROKER_URL is checked by /readyz when set.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?DATABASE_URL must name the PostgreSQL database to use}"
BIN=${BIN:-.venv/bin}
port=${SMOKE_PORT:-18765}
base="http://127.0.0.1:${port}"
var_dir=$(mktemp -d)
token="smoke-$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"

export DJANGO_DEBUG=0 DJANGO_STATIC_MANIFEST=1 MAS_VAR_DIR="${var_dir}"
export DJANGO_SECRET_KEY="smoke-$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')"
export DJANGO_ALLOWED_HOSTS=mas.example.cn METRICS_TOKEN="${token}" LOG_FORMAT=json

"${BIN}/python" manage.py migrate --noinput >/dev/null
"${BIN}/python" manage.py collectstatic --noinput >/dev/null

"${BIN}/gunicorn" -c config/gunicorn.py --bind "127.0.0.1:${port}" --workers 2 \
  --access-logfile "${var_dir}/access.log" config.wsgi >"${var_dir}/gunicorn.log" 2>&1 &
pid=$!
cleanup() {
  kill "${pid}" 2>/dev/null || true
  wait "${pid}" 2>/dev/null || true
  rm -rf "${var_dir}"
}
trap cleanup EXIT

fail() {
  echo "smoke: $*" >&2
  tail -n 40 "${var_dir}/gunicorn.log" >&2 || true
  exit 1
}

for _ in $(seq 1 60); do
  curl -fsS "${base}/healthz" >/dev/null 2>&1 && break
  kill -0 "${pid}" 2>/dev/null || fail "gunicorn exited"
  sleep 0.5
done
https=(-H "Host: mas.example.cn" -H "X-Forwarded-Proto: https")

curl -fsS "${base}/healthz" | grep -q '"ok"' || fail "/healthz"
curl -fsS "${base}/readyz" | grep -q '"database": {"ok": true' || fail "/readyz"
echo "smoke: /healthz and /readyz answer 200"

hashed=$("${BIN}/python" -c 'import json,sys; print(json.load(open(sys.argv[1]))["paths"]["admin/css/base.css"])' \
  "${var_dir}/static/staticfiles.json")
headers=$(curl -fsS -D - -o /dev/null "${https[@]}" "${base}/static/${hashed}") || fail "static ${hashed}"
grep -qi "cache-control: max-age=315360000" <<<"${headers}" || fail "static file not cached forever"
echo "smoke: /static/${hashed} served by whitenoise, immutable"

code=$(curl -s -o /dev/null -w '%{http_code}' -H "Host: mas.example.cn" "${base}/admin/login/")
[ "${code}" = 301 ] || fail "plain HTTP was not redirected to HTTPS (${code})"
code=$(curl -s -o /dev/null -w '%{http_code}' "${https[@]}" "${base}/admin/login/")
[ "${code}" = 200 ] || fail "admin login page over HTTPS: ${code}"
code=$(curl -s -o /dev/null -w '%{http_code}' "${https[@]}" "${base}/metrics")
[ "${code}" = 401 ] || fail "/metrics without a token: ${code}"
curl -fsS "${https[@]}" -H "Authorization: Bearer ${token}" "${base}/metrics" \
  | grep -q '^mas_fulfillment_orders' || fail "/metrics with the token"
echo "smoke: HTTPS redirect, admin page, /metrics protected and served"
grep -q '"trace_id"' "${var_dir}/access.log" || fail "access log has no trace id"
echo "smoke: OK"
