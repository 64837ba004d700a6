"""gunicorn configuration for production web processes (docs/deploy.md).

    gunicorn -c config/gunicorn.py config.wsgi

Everything can be overridden from the environment (GUNICORN_* below) or the command line.
Behind a reverse proxy (nginx) that terminates TLS and sets X-Forwarded-Proto; bind to
an internal address only. Prometheus: each worker is a process, so metrics are kept in
PROMETHEUS_MULTIPROC_DIR (one directory per master) and merged at /metrics.
"""

import multiprocessing
import os
import shutil
from pathlib import Path

_var = Path(os.environ.get("MAS_VAR_DIR", Path(__file__).resolve().parent.parent / "var"))

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", str(multiprocessing.cpu_count() * 2 + 1)))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
worker_class = "gthread" if threads > 1 else "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# Recycle workers now and then so that a slow leak cannot grow without bound.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "200"))
# Trust X-Forwarded-* from the proxy only (comma-separated addresses).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
proxy_allow_ips = forwarded_allow_ips
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-")
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
# The access log line: no query string (it may carry a phone number), the trace id.
access_log_format = (
    '{"ts":"%(t)s","remote":"%(h)s","method":"%(m)s","path":"%(U)s","status":%(s)s,'
    '"bytes":%(B)s,"duration_us":%(D)s,"trace_id":"%({x-request-id}o)s"}'
)
proc_name = os.environ.get("GUNICORN_PROC_NAME", "mas-web")
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108
# Preloading shares the app's memory between workers but opens connections in the master;
# Django opens its own per worker, so it is safe and on by default.
preload_app = os.environ.get("GUNICORN_PRELOAD", "1") == "1"

os.environ.setdefault("MAS_PROCESS_ROLE", "web")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _metrics_dir() -> str:
    """A directory of this master's own (var/prometheus/<pid>); those of dead masters go.

    Set here, when the master reads its configuration — before the application is
    preloaded and before any worker imports prometheus_client.
    """
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        path = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    else:
        root = _var / "prometheus"
        root.mkdir(parents=True, exist_ok=True)
        for old in root.iterdir():
            if old.name.isdigit() and not _pid_alive(int(old.name)):
                shutil.rmtree(old, ignore_errors=True)
        path = root / str(os.getpid())
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)
    path.mkdir(parents=True, exist_ok=True)
    return str(path)


_multiproc = _metrics_dir()


def child_exit(server, worker):
    """Drop a dead worker's live gauges from the merged metrics."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    """The master stops: its workers' metric files are of no further use."""
    if Path(_multiproc).parent == _var / "prometheus":
        shutil.rmtree(_multiproc, ignore_errors=True)
