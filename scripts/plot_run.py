#!/usr/bin/env python3
"""Plots one run directory: power per rank over time, and energy per iteration split
compute / comm / other. Writes RUN/energy.png and RUN/energy.svg.

    python3 scripts/plot_run.py runs/demo
"""
import csv
import json
import sys
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main(run: Path) -> None:
    summary = json.loads((run / "summary.json").read_text())
    iterations = [json.loads(line) for line in (run / "iterations.jsonl").read_text().splitlines() if line]
    power = defaultdict(lambda: ([], []))
    with open(run / "power.csv") as f:
        for row in csv.DictReader(f):
            key = f"rank {row['rank']} ({row['source']}, {row['domain']})"
            power[key][0].append(float(row["t_s"]))
            power[key][1].append(float(row["watts"]))

    source = summary.get("energy_source", "?")
    label = " (ESTIMATE)" if "estimate" in source else ""
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 7), constrained_layout=True)
    for key, (t, w) in sorted(power.items()):
        top.plot(t, w, linewidth=0.8, label=key)
    top.set_xlabel("time since start (s)")
    top.set_ylabel("power (W)")
    top.set_title(f"Power per rank, source: {source}{label}")
    top.legend(fontsize=7, loc="upper right")

    it = [r["iter"] for r in iterations]
    compute = [r["energy_compute_j"] for r in iterations]
    comm = [r["energy_comm_j"] for r in iterations]
    other = [r["energy_other_j"] for r in iterations]
    bottom.stackplot(it, compute, comm, other, labels=["compute", "comm", "other"], alpha=0.85)
    bottom.set_ylim(bottom=0)
    top.set_ylim(bottom=0)
    bottom.set_xlabel("iteration")
    bottom.set_ylabel("cluster energy per iteration (J)")
    bottom.set_title(
        f"{summary['ranks']} ranks on {summary['nodes']} node(s): {summary['energy_j']:.1f} J in all, "
        f"{summary['joules_per_sample'] * 1e3:.3f} mJ/{summary.get('sample_unit', 'sample')}, "
        f"comm share {100 * summary['comm_energy_share']:.1f} %"
    )
    bottom.legend(loc="upper right")
    for ext in ("png", "svg"):
        fig.savefig(run / f"energy.{ext}", dpi=120)
    print(f"plot: {run / 'energy.png'} and {run / 'energy.svg'}")


if __name__ == "__main__":
    if len(sys.argv) != 2 or not Path(sys.argv[1], "summary.json").exists():
        sys.exit("usage: plot_run.py RUN_DIR  (a directory written by ringwatt train)")
    main(Path(sys.argv[1]))
