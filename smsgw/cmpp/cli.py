"""The CMPP link-test command line: `python -m smsgw.cmpp simulate|send|bench`.

A stable contract for NOC staff and tests (issue 4). It needs nothing but the
standard library: no Django settings, no environment variables.

- `simulate` runs the ISMG simulator until SIGINT/SIGTERM and prints
  `listening on HOST:PORT` once it accepts connections. Lines on its standard
  input trigger actions: `mo SRC DEST TEXT` pushes an MO message (to the next
  login if no SP is connected), `drop` aborts every link.
- `send` logs in, submits a text to each recipient and prints one JSON object per
  line on stdout (submit_resp, report, mo); logs go to stderr. Exit status 0 when
  every segment was accepted (and, with --report, every report arrived), 1
  otherwise or on timeout, 2 when the login was refused.
- `bench` measures submits per second against a simulator (its own, in a separate
  process, unless --connect is given) and prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import secrets
import signal
import statistics
import subprocess
import sys
import threading
import time

from .pdu import ProtocolError, Submit, Version
from .session import LoginRefusedError, MoMessage, Report, Session, SessionConfig, SessionError
from .simulator import Faults, Simulator, SimulatorConfig, accounts_from
from .text import split_text

__all__ = ["main"]

log = logging.getLogger("smsgw.cmpp.cli")

DEFAULT_BENCH_TEXT = ("中国移动互联网短信网关接口协议性能测试" * 4)[:70]


def _address(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT")
    return host.strip("[]") or "127.0.0.1", int(port)


def _version(text: str) -> Version:
    try:
        return Version.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _emit(obj: dict) -> None:
    """One JSON object per line on stdout, flushed so a reader sees it at once."""
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


# ---------------------------------------------------------------------------
# simulate
# ---------------------------------------------------------------------------


def _read_commands(loop: asyncio.AbstractEventLoop, sim: Simulator) -> None:
    """Read stdin lines in a daemon thread (so it never blocks shutdown)."""

    def run() -> None:
        for line in sys.stdin:
            words = line.strip().split(maxsplit=3)
            if not words:
                continue
            if words[0] == "mo" and len(words) == 4:
                loop.call_soon_threadsafe(sim.queue_mo, words[1], words[2], words[3])
            elif words[0] == "drop":
                loop.call_soon_threadsafe(sim.drop_links)
            else:
                log.warning("unknown command %r (use: mo SRC DEST TEXT | drop)", line.strip())

    if sys.stdin is not None and not sys.stdin.closed:
        threading.Thread(target=run, name="simulate-stdin", daemon=True).start()


async def _simulate(args: argparse.Namespace) -> int:
    host, port = args.listen
    config = SimulatorConfig(
        accounts=accounts_from(args.account),
        host=host,
        port=port,
        version=args.version,
        rate=args.rate,
        dlr_delay=args.dlr_delay,
        dlr_fail_ratio=args.dlr_fail_ratio,
        seed=args.seed,
        ismg_id=args.ismg_id,
        record_submits=False,
    )
    faults = Faults(
        refuse_login=args.refuse_logins,
        response_delay=args.response_delay,
        drop_after_submits=args.drop_after,
    )
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    sim = Simulator(config, faults)
    await sim.start()
    shown = f"[{sim.host}]" if ":" in sim.host else sim.host
    sys.stdout.write(f"listening on {shown}:{sim.port}\n")
    sys.stdout.flush()
    _read_commands(loop, sim)
    await stop.wait()
    log.info("stopping: %s", sim.counters)
    try:
        async with asyncio.timeout(3.0):
            await sim.stop()
    except TimeoutError:
        log.warning("links did not close in time")
    return 0


# ---------------------------------------------------------------------------
# send
# ---------------------------------------------------------------------------


async def _send(args: argparse.Namespace) -> int:
    host, port = args.connect
    report_wanted = bool(args.report)
    try:
        segments_by_dest = []
        base_ref = secrets.randbelow(256)
        for i, dest in enumerate(args.to):
            segments_by_dest.append((dest, split_text(args.text, (base_ref + i) & 0xFF)))
    except ValueError as exc:
        log.error("%s", exc)
        return 1
    expected_reports: set[int] = set()
    seen_reports: set[int] = set()
    all_reports = asyncio.Event()

    def on_deliver(event: Report | MoMessage) -> None:
        if isinstance(event, Report):
            _emit(
                {
                    "event": "report",
                    "msg_id": str(event.msg_id),
                    "stat": event.stat,
                    "dest": event.dest,
                    "submit_time": event.submit_time,
                    "done_time": event.done_time,
                }
            )
            seen_reports.add(event.msg_id)
            if submits_done and expected_reports <= seen_reports:
                all_reports.set()
        else:
            _emit({"event": "mo", "src": event.src, "dest": event.dest, "text": event.text})

    submits_done = False
    config = SessionConfig(
        host=host,
        port=port,
        sp_id=args.sp_id,
        secret=args.secret,
        version=args.version,
        window=args.window,
        connect_timeout=min(10.0, args.timeout),
        reconnect=True,
        reconnect_delay=0.5,
        reconnect_max_delay=5.0,
        name=f"send {args.sp_id}@{host}:{port}",
    )
    session = Session(config, on_deliver=on_deliver)
    ok = True

    async def submit_one(dest: str, segment, total: int) -> bool:
        pdu = Submit(
            dest_terminal_ids=(dest,),
            msg_content=segment.content,
            service_id=args.service_id,
            src_id=args.src_id,
            msg_src=args.sp_id,
            msg_fmt=segment.msg_fmt,
            registered_delivery=1 if report_wanted else 0,
            pk_total=segment.pk_total,
            pk_number=segment.pk_number,
            tp_udhi=segment.tp_udhi,
            fee_user_type=2,
        )
        try:
            resp = await session.submit(pdu)
        except SessionError as exc:
            log.error("%s segment %d/%d not answered: %s", dest, segment.pk_number, total, exc)
            return False
        except ProtocolError as exc:
            log.error("%s segment %d/%d cannot be sent: %s", dest, segment.pk_number, total, exc)
            return False
        _emit(
            {
                "event": "submit_resp",
                "dest": dest,
                "segment": segment.pk_number,
                "of": total,
                "msg_id": str(resp.msg_id),
                "result": resp.result,
            }
        )
        if resp.result == 0 and report_wanted:
            expected_reports.add(resp.msg_id)
        return resp.result == 0

    try:
        async with asyncio.timeout(args.timeout):
            try:
                await session.start()
            except LoginRefusedError as exc:
                log.error("%s", exc)
                return 2
            results = await asyncio.gather(
                *(
                    submit_one(dest, seg, len(segs))
                    for dest, segs in segments_by_dest
                    for seg in segs
                )
            )
            ok = all(results)
            submits_done = True
            if report_wanted and not expected_reports <= seen_reports:
                await all_reports.wait()
            await session.close()
    except TimeoutError:
        missing = len(expected_reports - seen_reports)
        log.error("timed out after %s s (%d reports missing)", args.timeout, missing)
        session.abort()
        return 1
    if isinstance(session.failure, LoginRefusedError):
        log.error("%s", session.failure)
        return 2
    return 0 if ok else 1


# ---------------------------------------------------------------------------
# bench
# ---------------------------------------------------------------------------


def _start_simulator(args: argparse.Namespace) -> tuple[subprocess.Popen, tuple[str, int]]:
    """Run `simulate` in its own process so that sender and gateway use two cores."""
    cmd = [
        sys.executable,
        "-m",
        "smsgw.cmpp",
        "simulate",
        "--listen",
        "127.0.0.1:0",
        "--version",
        args.version.label,
        "--account",
        f"{args.sp_id}:{args.secret}",
        "--log-level",
        "WARNING",
    ]
    sim_rate = args.sim_rate if args.sim_rate is not None else args.rate
    if sim_rate is not None:
        cmd += ["--rate", str(sim_rate)]
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter with fixed arguments
        cmd, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, cwd=root
    )
    line = proc.stdout.readline()
    if "listening" not in line:
        proc.kill()
        raise RuntimeError(f"simulator did not start: {line!r}")
    return proc, _address(line.split()[-1])


async def _bench_run(args: argparse.Namespace, addresses: list[tuple[str, int]]) -> dict:
    links = args.links
    per_link_rate = args.rate / links if args.rate else None
    sessions = [
        Session(
            SessionConfig(
                host=addresses[i % len(addresses)][0],
                port=addresses[i % len(addresses)][1],
                sp_id=args.sp_id,
                secret=args.secret,
                version=args.version,
                window=args.window,
                rate=per_link_rate,
                reconnect=True,
                reconnect_delay=0.2,
                name=f"bench link {i + 1}",
            )
        )
        for i in range(links)
    ]
    await asyncio.gather(*(s.start() for s in sessions))
    pdu = Submit(
        dest_terminal_ids=("13800138000",),
        msg_content=args.text.encode("utf-16-be"),
        service_id="BENCH",
        src_id="1069000001",
        msg_src=args.sp_id,
        msg_fmt=8,
    )
    latencies: list[float] = []
    results = {"accepted": 0, "rejected": 0, "failed": 0}
    remaining = [args.count // links + (1 if i < args.count % links else 0) for i in range(links)]
    clock = time.perf_counter

    async def worker(index: int) -> None:
        session = sessions[index]
        submit = session.submit
        record = latencies.append
        while remaining[index] > 0:
            remaining[index] -= 1
            started = clock()
            try:
                resp = await submit(pdu)
            except SessionError:
                results["failed"] += 1
                continue
            record(clock() - started)
            results["accepted" if resp.result == 0 else "rejected"] += 1

    started = clock()
    await asyncio.gather(*(worker(i) for i in range(links) for _ in range(args.window)))
    seconds = clock() - started
    flow_controlled = sum(s.counters.flow_controlled for s in sessions)
    await asyncio.gather(*(s.close() for s in sessions))
    latencies.sort()

    def pct(p: float) -> float:
        if not latencies:
            return 0.0
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000, 3)

    return {
        "count": args.count,
        "accepted": results["accepted"],
        "rejected": results["rejected"],
        "failed": results["failed"],
        "flow_controlled": flow_controlled,
        "seconds": round(seconds, 3),
        "submits_per_sec": round(results["accepted"] / seconds, 1) if seconds else 0.0,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 3) if latencies else 0.0,
        "links": links,
        "window": args.window,
        "version": args.version.label,
        "rate": args.rate,
        "text_chars": len(args.text),
    }


def _bench(args: argparse.Namespace) -> int:
    proc = None
    addresses = list(args.connect or [])
    if not addresses:
        proc, address = _start_simulator(args)
        addresses = [address]
    try:
        summary = asyncio.run(_bench_run(args, addresses))
    except (OSError, SessionError) as exc:
        log.error("bench failed: %s", exc)
        return 1
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
    _emit(summary)
    return 0 if summary["accepted"] == args.count else 1


# ---------------------------------------------------------------------------
# entry point
# ---------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the three subcommands."""
    parser = argparse.ArgumentParser(
        prog="python -m smsgw.cmpp", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--log-level", default="INFO", help="stderr log level (default INFO)")
    sub = parser.add_subparsers(dest="command", required=True)

    sim = sub.add_parser("simulate", help="run an ISMG simulator")
    sim.add_argument("--listen", type=_address, required=True, metavar="HOST:PORT")
    sim.add_argument("--version", type=_version, default=Version.V30, metavar="{2.0|3.0}")
    sim.add_argument("--account", action="append", required=True, metavar="SP_ID:SECRET")
    sim.add_argument("--rate", type=float, default=None, metavar="MSGS_PER_SEC")
    sim.add_argument("--dlr-delay", type=float, default=0.2, metavar="SECONDS")
    sim.add_argument("--dlr-fail-ratio", type=float, default=0.0, metavar="FLOAT")
    sim.add_argument("--seed", type=int, default=None)
    sim.add_argument("--ismg-id", type=int, default=1001, help="ISMG code in Msg_Ids")
    sim.add_argument("--refuse-logins", type=int, default=None, metavar="STATUS")
    sim.add_argument("--response-delay", type=float, default=0.0, metavar="SECONDS")
    sim.add_argument("--drop-after", type=int, default=None, metavar="N", help="drop a link once")
    sim.add_argument("--log-level", default=argparse.SUPPRESS)
    sim.set_defaults(run=lambda a: asyncio.run(_simulate(a)))

    send = sub.add_parser("send", help="submit a text and print JSON lines")
    send.add_argument("--connect", type=_address, required=True, metavar="HOST:PORT")
    send.add_argument("--version", type=_version, default=Version.V30, metavar="{2.0|3.0}")
    send.add_argument("--sp-id", required=True)
    send.add_argument("--secret", required=True)
    send.add_argument("--service-id", required=True)
    send.add_argument("--src-id", required=True)
    send.add_argument("--to", action="append", required=True, metavar="MSISDN")
    send.add_argument("--text", required=True)
    send.add_argument("--report", action="store_true")
    send.add_argument("--window", type=int, default=16)
    send.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS")
    send.add_argument("--log-level", default=argparse.SUPPRESS)
    send.set_defaults(run=lambda a: asyncio.run(_send(a)))

    bench = sub.add_parser("bench", help="measure submits per second")
    bench.add_argument("--connect", type=_address, action="append", metavar="HOST:PORT")
    bench.add_argument("--version", type=_version, default=Version.V30, metavar="{2.0|3.0}")
    bench.add_argument("--count", type=int, default=10000)
    bench.add_argument("--window", type=int, default=16)
    bench.add_argument("--links", type=int, default=1)
    bench.add_argument("--text", default=DEFAULT_BENCH_TEXT)
    bench.add_argument("--rate", type=float, default=None, help="client-side licence rate")
    bench.add_argument("--sim-rate", type=float, default=None, help="own simulator's rate")
    bench.add_argument("--sp-id", default="900001")
    bench.add_argument("--secret", default="888888")
    bench.add_argument("--log-level", default=argparse.SUPPRESS)
    bench.set_defaults(run=_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, set up stderr logging, run the subcommand; return the exit code."""
    args = build_parser().parse_args(argv)
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(encoding="utf-8")  # JSON lines are UTF-8 whatever the locale
    if args.command in ("send", "bench") and getattr(args, "window", 1) < 1:
        print("--window must be at least 1", file=sys.stderr)
        return 2
    logging.basicConfig(
        stream=sys.stderr,
        level=getattr(logging, str(args.log_level).upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return args.run(args)
    except KeyboardInterrupt:
        return 130
