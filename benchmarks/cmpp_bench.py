"""CMPP protocol stack benchmarks (issue 4): throughput and rate fidelity.

Runs `python -m smsgw.cmpp bench` (which starts the ISMG simulator in a separate
process, so sender and gateway each get a core) for every scenario, several times,
and prints the median of each figure as a Markdown table plus the raw JSON.

    python benchmarks/cmpp_bench.py            # full run, about five minutes
    python benchmarks/cmpp_bench.py --quick    # smaller counts, one run each

Scenarios:
- throughput: one link, window 16, 70-character Chinese messages (UCS2), 100,000
  SUBMITs, CMPP 3.0; the same with 2 and 4 links; one link with CMPP 2.0;
- rate fidelity: an account licensed for 200 msg/s, the simulator enforcing
  200 msg/s, 60 seconds of traffic (12,000 SUBMITs): achieved rate and Result 8s.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def bench(*args: str) -> dict:
    """One `bench` run; returns its JSON summary."""
    cmd = [sys.executable, "-m", "smsgw.cmpp", "--log-level", "WARNING", "bench", *args]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr}")
    return json.loads(done.stdout)


def median_of(runs: list[dict], key: str) -> float:
    """Median of one figure over several runs."""
    return statistics.median(r[key] for r in runs)


def main() -> None:
    """Run every scenario and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per throughput scenario")
    parser.add_argument("--rate-runs", type=int, default=3, help="runs of the 60 s scenario")
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="10,000 SUBMITs, 10 s, one run")
    args = parser.parse_args()
    if args.quick:
        args.runs, args.rate_runs, args.count = 1, 1, 10_000
    rate_seconds = 10 if args.quick else 60

    throughput = [
        ("1 link, CMPP 3.0", ["--links", "1"]),
        ("2 links, CMPP 3.0", ["--links", "2"]),
        ("4 links, CMPP 3.0", ["--links", "4"]),
        ("1 link, CMPP 2.0", ["--links", "1", "--version", "2.0"]),
    ]
    rows = []
    raw = {}
    for name, extra in throughput:
        runs = [
            bench("--count", str(args.count), "--window", "16", *extra) for _ in range(args.runs)
        ]
        raw[name] = runs
        each = ", ".join(f"{r['submits_per_sec']:,.0f}" for r in runs)
        rows.append(
            f"| {name} | {args.count:,} | {median_of(runs, 'submits_per_sec'):,.0f} "
            f"| {median_of(runs, 'p50_ms'):.2f} | {median_of(runs, 'p99_ms'):.2f} "
            f"| {each} |"
        )
        print(rows[-1], file=sys.stderr)

    licence = 200
    count = licence * rate_seconds
    rate_runs = [
        bench("--count", str(count), "--rate", str(licence), "--sim-rate", str(licence))
        for _ in range(args.rate_runs)
    ]
    raw["rate fidelity"] = rate_runs
    achieved = median_of(rate_runs, "submits_per_sec")
    result8 = max(r["flow_controlled"] for r in rate_runs)

    print(f"Machine: {platform.platform()}, Python {platform.python_version()}, "
          f"{platform.processor() or platform.machine()}")  # fmt: skip
    print()
    print("| Scenario (window 16, 70 Chinese characters) | SUBMITs | submits/s (median) "
          "| p50 ms | p99 ms | all runs |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---|")
    print("\n".join(rows))
    print()
    print(f"Rate fidelity: licence {licence} msg/s, simulator enforcing {licence} msg/s, "
          f"{count:,} SUBMITs ({rate_seconds} s): median {achieved:.1f} msg/s = "
          f"{achieved / licence:.1%} of the licence, Result 8 responses: {result8} "
          f"(max over {len(rate_runs)} runs)")  # fmt: skip
    print()
    print(json.dumps(raw, indent=1))


if __name__ == "__main__":
    main()
