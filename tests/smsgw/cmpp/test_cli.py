"""`python -m smsgw.cmpp simulate|send|bench` run as a user would: subprocesses,
no environment variables, from the project root."""

import asyncio
import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from smsgw.cmpp.simulator import Account, Simulator, SimulatorConfig

from .util import run

ROOT = Path(__file__).resolve().parents[3]
CMD = [sys.executable, "-m", "smsgw.cmpp"]
SEND = ["--sp-id", "900001", "--secret", "888888", "--service-id", "MAS", "--src-id", "1069001"]
LONG = "这是一条需要分段发送的长短信，用于检查分段与状态报告。" * 6  # 162 characters: 3 segments


@pytest.fixture
def simulate():
    """Start `simulate` with the given arguments; returns (process, "HOST:PORT")."""
    procs = []

    def start(*args, version="3.0", stdin=subprocess.DEVNULL):
        argv = ["simulate", "--listen", "127.0.0.1:0", "--version", version]
        proc = subprocess.Popen(
            [*CMD, *argv, "--account", "900001:888888", *args],
            cwd=ROOT,
            env={},
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        procs.append(proc)
        line = proc.stdout.readline()
        assert line.startswith("listening on "), line
        return proc, line.split()[-1]

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def send(address, *args, version="3.0", timeout=30):
    done = subprocess.run(
        [*CMD, "send", "--connect", address, "--version", version, *SEND, *args],
        check=False,
        cwd=ROOT,
        env={},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    lines = [json.loads(line) for line in done.stdout.splitlines()]  # stdout: JSON only
    return done.returncode, lines


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_simulate_listens_and_ends_on_a_signal(simulate, signum):
    proc, address = simulate()
    host, port = address.rsplit(":", 1)
    assert host == "127.0.0.1" and int(port) > 0

    proc.send_signal(signum)

    assert proc.wait(timeout=5) == 0


@pytest.mark.parametrize("version", ["2.0", "3.0"])
def test_send_short_ascii_text(simulate, version):
    _, address = simulate(version=version)

    code, lines = send(address, "--to", "13800138000", "--text", "hello", version=version)

    assert code == 0
    (line,) = lines
    assert line["event"] == "submit_resp" and line["result"] == 0
    assert (line["dest"], line["segment"], line["of"]) == ("13800138000", 1, 1)
    assert isinstance(line["msg_id"], str) and int(line["msg_id"]) > 0


@pytest.mark.parametrize("version", ["2.0", "3.0"])
def test_send_long_text_to_two_recipients_with_reports(simulate, version):
    _, address = simulate("--dlr-delay", "0.1", version=version)

    code, lines = send(
        address, "--to", "13800138000", "--to", "13900139000", "--text", LONG, "--report",
        version=version,
    )  # fmt: skip

    assert code == 0
    resps = [x for x in lines if x["event"] == "submit_resp"]
    reports = [x for x in lines if x["event"] == "report"]
    assert sorted((x["dest"], x["segment"], x["of"]) for x in resps) == [
        (dest, k, 3) for dest in ("13800138000", "13900139000") for k in (1, 2, 3)
    ]
    assert {x["msg_id"] for x in reports} == {x["msg_id"] for x in resps}
    for report in reports:
        assert report["stat"] == "DELIVRD"
        assert set(report) >= {"msg_id", "stat", "dest", "submit_time", "done_time"}
        assert len(report["submit_time"]) == 10


@pytest.mark.parametrize(
    ("args", "sim_version"),
    [
        (["--secret", "wrong"], "3.0"),
        (["--sp-id", "999999"], "3.0"),
        ([], "2.0"),  # a 3.0 client against a 2.0 gateway: version too high
    ],
)
def test_refused_login_exits_2(simulate, args, sim_version):
    _, address = simulate(version=sim_version)

    code, lines = send(address, "--to", "13800138000", "--text", "hi", *args)

    assert (code, lines) == (2, [])


def test_result_8_is_retried_until_accepted(simulate):
    _, address = simulate("--rate", "2")
    dests = [arg for i in range(4) for arg in ("--to", f"1380013800{i}")]

    code, lines = send(address, *dests, "--text", "hi")

    assert code == 0 and [x["result"] for x in lines] == [0, 0, 0, 0]


def test_a_dropped_link_is_reestablished(simulate):
    _, address = simulate("--drop-after", "2")
    dests = [arg for i in range(3) for arg in ("--to", f"1380013800{i}")]

    code, lines = send(address, *dests, "--text", "hi")

    assert code == 0 and sorted(x["dest"] for x in lines) == [f"1380013800{i}" for i in range(3)]


def test_timeout_bounds_the_whole_run(simulate):
    # The gateway would answer only after 1000 s: the run ends because of --timeout
    # (the helper's own 30 s subprocess limit would otherwise fail the test).
    _, address = simulate("--response-delay", "1000")

    code, lines = send(address, "--to", "13800138000", "--text", "hi", "--timeout", "1")

    assert code == 1 and lines == []


def test_mo_received_meanwhile_is_printed(simulate):
    proc, address = simulate(stdin=subprocess.PIPE)
    proc.stdin.write("mo 13800138000 1069001123 收到，谢谢 ok\n")
    proc.stdin.flush()

    code, lines = send(address, "--to", "13800138000", "--text", "hi", "--report")

    assert code == 0
    mo = [x for x in lines if x["event"] == "mo"]
    assert mo == [
        {"event": "mo", "src": "13800138000", "dest": "1069001123", "text": "收到，谢谢 ok"}
    ]


def test_account_secret_is_split_at_the_first_colon(simulate):
    _, address = simulate("--account", "900002:pass:word")

    code, _ = send(
        address, "--sp-id", "900002", "--secret", "pass:word", "--to", "138", "--text", "x"
    )

    assert code == 0


async def _send_in_process(sim_faults: dict, *args):
    config = SimulatorConfig(accounts=(Account("900001", "888888"),), dlr_delay=0.05)
    async with Simulator(config) as sim:
        for name, value in sim_faults.items():
            setattr(sim.faults, name, value)
        proc = await asyncio.create_subprocess_exec(
            *CMD, "send", "--connect", sim.address, *SEND, *args,
            cwd=ROOT, env={}, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        out, _ = await proc.communicate()
    return proc.returncode, [json.loads(x) for x in out.decode().splitlines()], sim


def test_a_refusing_result_is_final_and_exits_1():
    code, lines, sim = run(_send_in_process({"submit_result": 13}, "--to", "138", "--text", "x"))

    assert code == 1 and [x["result"] for x in lines] == [13]
    assert sim.counters.submits == 1


def test_submit_fields_follow_the_contract():
    code, _, sim = run(
        _send_in_process({}, "--to", "13800138000", "--text", "hi", "--report", "--window", "2")
    )
    code2, _, sim2 = run(_send_in_process({}, "--to", "+8613800138000", "--text", "你好"))

    assert code == code2 == 0
    (first,) = [r.submit for r in sim.submits]
    assert (first.dest_terminal_ids, first.src_id, first.service_id) == (
        ("13800138000",),
        "1069001",
        "MAS",
    )
    assert (first.registered_delivery, first.msg_fmt, first.msg_content) == (1, 0, b"hi")
    (second,) = [r.submit for r in sim2.submits]
    assert second.dest_terminal_ids == ("+8613800138000",)
    assert (second.registered_delivery, second.msg_fmt) == (0, 8)
    assert second.msg_content == "你好".encode("utf-16-be")


def test_bench_starts_its_own_simulator_and_prints_one_json_object():
    done = subprocess.run(
        [*CMD, "bench", "--count", "300", "--links", "2", "--window", "8"],
        cwd=ROOT, env={}, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip

    assert done.returncode == 0
    (summary,) = [json.loads(line) for line in done.stdout.splitlines()]
    assert summary["count"] == summary["accepted"] == 300
    assert {"seconds", "submits_per_sec", "p50_ms", "p99_ms"} <= set(summary)
    assert summary["p99_ms"] >= summary["p50_ms"] > 0


def test_bench_against_a_running_simulator(simulate):
    _, address = simulate(version="2.0")

    done = subprocess.run(
        [*CMD, "bench", "--connect", address, "--version", "2.0", "--count", "200"],
        cwd=ROOT, env={}, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip

    assert done.returncode == 0 and json.loads(done.stdout)["accepted"] == 200


def test_the_package_imports_only_the_standard_library():
    # -S: no site-packages at all, so neither Django nor any other package is reachable.
    code = (
        "import sys, smsgw.cmpp.cli, smsgw.cmpp.simulator, smsgw.cmpp.session;"
        "extra = {m.split('.')[0] for m in sys.modules} - set(sys.stdlib_module_names)"
        " - {'smsgw', '__main__'};"
        "print(sorted(extra))"
    )
    done = subprocess.run(
        [sys.executable, "-S", "-c", code],
        cwd=ROOT,
        env={},
        capture_output=True,
        text=True,
        check=False,
    )

    assert done.stdout.strip() == "[]"
    assert (ROOT / "smsgw" / "__init__.py").read_text() == ""


def test_a_recipient_too_long_for_the_field_exits_1(simulate):
    _, address = simulate(version="2.0")

    code, lines = send(address, "--to", "1" * 22, "--text", "hi", version="2.0")

    assert (code, lines) == (1, [])
