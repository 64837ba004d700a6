"""A small production-like cluster on this machine, for benchmarks/scale_out.py and soak.py;
its scratch-database helpers serve every PostgreSQL benchmark.

PostgreSQL (a scratch database next to DATABASE_URL's), Redis (CELERY_BROKER_URL), the
ISMG simulator in this process (recording every SUBMIT it accepts, so that a message
sent twice is seen where it matters: at the gateway), gunicorn web processes, Celery
workers and `smsgw_run` senders as subprocesses with production settings, and a webhook
receiver standing in for the enterprise's application.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
ENTERPRISE_TOKEN = "mas_demo-enterprise-tmf-apis-yuxin-logistics"  # noqa: S105 (demo data)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def scratch_database(url: str, suffix: str) -> tuple[str, str]:
    """(admin url, scratch url) for `<DATABASE_URL's name>_<suffix>`."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/") or "mas"
    admin = urlunsplit(parts._replace(path="/postgres"))
    return admin, urlunsplit(parts._replace(path=f"/{name}_{suffix}"))


def recreate(admin_url: str, scratch_url: str, *, drop_only: bool = False) -> None:
    import psycopg

    name = urlsplit(scratch_url).path.lstrip("/")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{name}"')


def rss_kib(pid: int, *, with_children: bool = False) -> int:
    """Resident memory of a process (and, for gunicorn, its workers) in KiB."""
    pids = [pid]
    if with_children:
        with contextlib.suppress(OSError):
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            pids += [int(child) for child in children]
    total = 0
    for one in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{one}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


class SimulatorThread:
    """The bundled ISMG simulator (smsgw.cmpp.simulator) on its own event loop thread."""

    def __init__(self, accounts, *, port: int, dlr_delay: float, dlr_fail_ratio: float):
        from smsgw.cmpp.simulator import Simulator, SimulatorConfig

        self.config = SimulatorConfig(
            accounts=tuple(accounts),
            host="127.0.0.1",
            port=port,
            dlr_delay=dlr_delay,
            dlr_fail_ratio=dlr_fail_ratio,
            seed=10,
            record_submits=True,
        )
        self.sim = Simulator(self.config)
        self.loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self.thread = threading.Thread(target=self._run, name="ismg-simulator", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self.sim.start())
        self._started.set()
        self.loop.run_forever()

    def start(self) -> SimulatorThread:
        self.thread.start()
        if not self._started.wait(10):
            raise SystemExit("the ISMG simulator did not start")
        return self

    def call(self, func, *args):
        """Run `func(*args)` on the simulator's loop and return its result."""

        async def run():
            return func(*args)

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(10)

    def submits(self) -> list:
        return self.call(lambda: list(self.sim.submits))

    def counters(self) -> dict:
        import dataclasses

        return self.call(lambda: dataclasses.asdict(self.sim.counters))

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self.sim.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)


class WebhookReceiver:
    """The enterprise's application: counts report webhooks per message (200 to all)."""

    def __init__(self):
        self.reports: collections.Counter = collections.Counter()
        self.deliveries: set[str] = set()
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    delivery = self.headers.get("X-MAS-Delivery", "")
                    if delivery not in receiver.deliveries:
                        receiver.deliveries.add(delivery)
                        with contextlib.suppress(ValueError, KeyError):
                            payload = json.loads(body)
                            if payload.get("event") == "report":
                                receiver.reports[payload["messageId"]] += 1
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format, *args):
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/mas-webhook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()


class Cluster:
    """Subprocesses with production settings; stopped (and killed if need be) on exit."""

    def __init__(self, env: dict, log_dir: Path):
        self.env = env
        self.log_dir = log_dir
        self.procs: dict[str, subprocess.Popen] = {}
        self.web_urls: list[str] = []

    def _spawn(self, name: str, command: list[str], extra_env: dict | None = None):
        env = {**self.env, **(extra_env or {})}
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 (lives with the process)
        proc = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.procs[name] = proc
        return proc

    def web(self, name: str, workers: int = 2) -> str:
        port = free_port()
        bin_dir = Path(sys.executable).parent
        self._spawn(
            name,
            [
                str(bin_dir / "gunicorn"),
                "-c",
                "config/gunicorn.py",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "--access-logfile",
                "/dev/null",
                "config.wsgi",
            ],
            {"MAS_PROCESS_ROLE": "web"},
        )
        url = f"http://127.0.0.1:{port}"
        self.web_urls.append(url)
        return url

    def worker(self, name: str, concurrency: int = 2) -> None:
        self._spawn(
            name,
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--loglevel=WARNING",
                f"--concurrency={concurrency}",
                "--without-gossip",
                "--without-mingle",
                f"--hostname={name}@%h",
            ],
            {"MAS_PROCESS_ROLE": "worker"},
        )

    def sender(self, name: str) -> None:
        self._spawn(
            name,
            [sys.executable, "manage.py", "smsgw_run", "--sender-id", name],
            {"MAS_PROCESS_ROLE": "sender"},
        )

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs[name]
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, sig)
        proc.wait(30)

    def alive(self) -> dict[str, bool]:
        return {name: proc.poll() is None for name, proc in self.procs.items()}

    def memory(self) -> dict[str, int]:
        return {
            name: rss_kib(proc.pid, with_children=name.startswith(("web", "worker")))
            for name, proc in self.procs.items()
            if proc.poll() is None
        }

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        for url in self.web_urls:
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/readyz", timeout=2) as response:  # noqa: S310
                        if response.status == 200:
                            break
                except OSError:
                    pass
                dead = [name for name, ok in self.alive().items() if not ok]
                if dead or time.monotonic() > deadline:
                    raise SystemExit(f"not ready: {url}; exited: {dead} (logs in {self.log_dir})")
                time.sleep(0.5)

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for proc in self.procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(max(0.1, deadline - time.monotonic()))
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)


def api_post(url: str, path: str, body: dict, *, token: str = ENTERPRISE_TOKEN, method="POST"):
    request = urllib.request.Request(  # noqa: S310 (our own local web processes)
        f"{url}{path}",
        data=json.dumps(body).encode(),
        method=method,
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def prepare(args, suffix: str):
    """Scratch database, migrations, demo data, the campaign's recipients; Django set up.

    Returns (env for the subprocesses, scratch url, admin url, the simulator's accounts,
    the enterprise subscription id, the recipients).
    """
    database_url = os.environ.get("DATABASE_URL", "")
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("set DATABASE_URL to a PostgreSQL server (postgres://…)")
    if not broker.startswith("redis://"):
        raise SystemExit("set CELERY_BROKER_URL to Redis (redis://…)")
    admin_url, scratch_url = scratch_database(database_url, suffix)
    recreate(admin_url, scratch_url)
    ismg_port = free_port()
    var_dir = Path(os.environ.get("MAS_BENCH_VAR", f"/tmp/mas-{suffix}-{os.getpid()}"))
    var_dir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "DATABASE_URL": scratch_url,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": f"bench-{os.urandom(16).hex()}",
        "FIELD_ENCRYPTION_KEY": "",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_SECURE_COOKIES": "0",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "CACHE_URL": broker.rsplit("/", 1)[0] + "/9",
        "FULFILLMENT_ISMG_PORT": str(ismg_port),
        "MAS_VAR_DIR": str(var_dir),
        "LOG_LEVEL": "WARNING",
        "SMSGW_API_RATE": "100000/min",
        "DATABASE_CONN_MAX_AGE": "60",
    }
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    with open(os.devnull, "w") as quiet:
        call_command("seed_demo", stdout=quiet)

    from core import clock
    from customers.models import ApiToken, RegisteredRecipient
    from customers.services import api_token_digest
    from fulfillment.models import CmppAccount, Subscription
    from smsgw.cmpp.simulator import Account
    from smsgw.sender import accounts_load

    token = ApiToken.objects.get(digest=api_token_digest(ENTERPRISE_TOKEN))
    enterprise_id = token.enterprise_id
    subscription = (
        Subscription.objects.filter(enterprise_id=enterprise_id, state=Subscription.State.ACTIVE)
        .order_by("id")
        .first()
    )
    if subscription is None:
        raise SystemExit("the demo enterprise has no active subscription")
    # The licensed rate and links of a large customer, so that the run measures the
    # system rather than a small demo licence.
    CmppAccount.objects.filter(subscription=subscription).update(
        licensed_rate=args.licensed_rate, max_links=2, window_size=16
    )
    recipients = [f"1990{n:07d}" for n in range(args.recipients)]
    now = clock.now()
    RegisteredRecipient.objects.bulk_create(
        [
            RegisteredRecipient(
                enterprise_id=enterprise_id,
                msisdn=number,
                consent_source="benchmark",
                consented_at=now,
            )
            for number in recipients
        ],
        ignore_conflicts=True,
    )
    accounts = [Account(spec.sp_id, spec.secret, None) for spec in accounts_load()]
    from django.db import connections

    connections.close_all()
    return env, scratch_url, admin_url, accounts, subscription.pk, recipients, ismg_port
