#!/usr/bin/env python3
"""Plots one run directory at a glance (RUN/energy.png and .svg):

  1. power over time, per machine (its sources summed; each rank's source only where no machine
     sum exists), with the idle baseline (where it lasted long enough to see) and evaluations
     shaded and each machine's idle power as a line;
  2. energy by phase, each bar split into idle (idle power x time in the phase) and dynamic;
  3. energy by machine and by MPI node (emulated host), split the same way — only where there
     are several to compare;
  4. energy per sample (token) of each training iteration, compute / comm / other; iterations
     that also evaluated are marked and their energy written, not drawn to this scale.
Legends sit beside the plots, never over the data.

Amounts start at zero. A run measured by the estimate says so in every title.

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
import numpy as np  # noqa: E402

PHASES = ["data", "compute", "comm", "optimizer", "eval", "checkpoint", "idle"]


def read(run: Path):
    summary = json.loads((run / "summary.json").read_text())
    lines = [json.loads(x) for x in (run / "iterations.jsonl").read_text().splitlines() if x]
    power = defaultdict(lambda: ([], []))
    with open(run / "power.csv") as f:
        for row in csv.DictReader(f):
            power[(int(row["rank"]), row["source"], row["domain"])][0].append(float(row["t_s"]))
            power[(int(row["rank"]), row["source"], row["domain"])][1].append(float(row["watts"]))
    return summary, lines, power


def timeline(ax, summary, lines, power, tag):
    machines = summary.get("machines") or [{"hostname": "all", "ranks": list(range(summary["ranks"]))}]
    drawn = 0
    for m, machine in enumerate(machines):
        curves = [(np.array(t), np.array(w)) for (r, _, _), (t, w) in power.items() if r in machine["ranks"] and len(t) > 1]
        if not curves:
            continue
        lo, hi = max(c[0][0] for c in curves), min(c[0][-1] for c in curves)  # where every curve has samples
        if hi <= lo:
            continue
        grid = np.linspace(lo, hi, 800)
        total = sum(np.interp(grid, t, w) for t, w in curves)
        ax.plot(grid, total, linewidth=1.6, label=f"machine {machine['hostname']} (its sources summed)")
        drawn += 1
        if machine.get("idle_power_w") is not None:
            ax.axhline(machine["idle_power_w"], linestyle="--", linewidth=1, color="grey",
                       label=f"machine {machine['hostname']} idle power")
    if not drawn:  # no machine sum to draw: each rank's source as sampled
        for (rank, source, domain), (t, w) in sorted(power.items()):
            ax.plot(t, w, linewidth=0.8, label=f"rank {rank} {source} {domain}")
    starts = [x["start_s"] for x in lines if x.get("start_s") is not None]
    end = max((x["start_s"] + x["seconds"] for x in lines if x.get("start_s") is not None), default=0)
    # The idle baseline's span, where it is wide enough to see (--idle-seconds 0 has none).
    if starts and summary.get("idle_power_w") is not None and end > 0 and starts[0] > 0.01 * end:
        ax.axvspan(0, starts[0], color="grey", alpha=0.15, label="before training (idle baseline)")
    for x in lines:
        if x.get("eval_s", 0) > 0 and x.get("start_s") is not None:
            end = x["start_s"] + x["seconds"]
            ax.axvspan(end - x["eval_s"], end, color="tab:purple", alpha=0.2)
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("time on the run's clock (s); purple: evaluations")
    ax.set_ylabel("power (W)")
    ax.set_title(f"Power over time{tag}")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0)  # beside the data, never over it


def split_bars(ax, names, totals, idle, title, ylabel):
    x = np.arange(len(names))
    idle = [0 if v is None else v for v in idle]
    dynamic = [t - i for t, i in zip(totals, idle)]
    ax.bar(x, idle, color="lightgrey", label="idle (idle power × time)")
    ax.bar(x, dynamic, bottom=idle, color="tab:orange", label="dynamic (the rest)")
    ax.set_xticks(x, names, fontsize=8, rotation=20)
    ax.set_ylim(bottom=0)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7)


def main(run: Path) -> None:
    summary, lines, power = read(run)
    source = summary.get("energy_source", "?")
    tag = f" — source {source}" + (" (ESTIMATE: a model, not a measurement)" if "estimate" in source else "")
    fig = plt.figure(figsize=(12, 10), constrained_layout=True)
    grid = fig.add_gridspec(3, 2)
    timeline(fig.add_subplot(grid[0, :]), summary, lines, power, tag)

    idle_w = summary.get("idle_power_w")
    by_phase = summary["energy_by_phase_j"]
    seconds = summary["seconds_by_phase"]
    phases = [p for p in PHASES if by_phase.get(p, 0) > 0]
    machines = summary.get("machines") or []
    nodes = summary.get("energy_by_node_j") or []
    # Machines against nodes only compares something when there are several of either.
    compare_places = len(machines) > 1 or len(nodes) > 1
    ax = fig.add_subplot(grid[1, 0] if compare_places else grid[1, :])
    split_bars(ax, phases, [by_phase[p] for p in phases], [None if idle_w is None else idle_w * seconds[p] for p in phases],
               "Energy by phase (apportioned from the sampled counters)", "energy (J)")
    fit = summary.get("phase_power_w")
    if fit:
        text = "fitted power: " + ", ".join(
            f"{p} {v['watts']:.1f}±{(v.get('standard_error') or 0):.1f} W" for p, v in sorted(fit.items()))
        ax.text(0.01, 0.98, text, transform=ax.transAxes, fontsize=7, va="top")

    if compare_places:
        ax = fig.add_subplot(grid[1, 1])
        names = [f"machine {m['hostname']}" for m in machines]
        totals = [m["energy_j"] for m in machines]
        idle = [m.get("energy_idle_j") for m in machines]
        for n, joules in enumerate(nodes):
            names.append(f"node {n}")
            totals.append(joules)
            share = joules / summary["energy_j"] if summary["energy_j"] else 0
            idle.append(None if summary.get("energy_idle_j") is None else summary["energy_idle_j"] * share)
        split_bars(ax, names, totals, idle, "Energy by machine and by MPI node (shared counters split by CPU time)", "energy (J)")

    # Per training iteration, per sample: an evaluation iteration costs an order of magnitude
    # more and would flatten the rest, so those are marked and their energy written instead.
    ax = fig.add_subplot(grid[2, :])
    unit = summary.get("sample_unit", "sample")
    train = [r for r in lines if r.get("eval_s", 0) == 0 and r["samples"] > 0]
    it = [r["iter"] for r in train]
    ax.stackplot(it, *[[r[k] / r["samples"] for r in train] for k in ("energy_compute_j", "energy_comm_j", "energy_other_j")],
                 labels=["compute", "comm", "other"], alpha=0.85)
    evals = [r for r in lines if r.get("eval_s", 0) > 0]
    for r in evals:
        ax.axvline(r["iter"], color="tab:purple", linewidth=0.8, linestyle=":")
    if evals:
        ax.text(0.01, 0.97, "dotted: iterations that also evaluated (not drawn): "
                + ", ".join(f"{r['iter']}: {r['energy_j']:.3g} J" for r in evals[:6]) + (" …" if len(evals) > 6 else ""),
                transform=ax.transAxes, fontsize=7, va="top")
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0, top=1.25 * max((r["energy_j"] / r["samples"] for r in train), default=1))
    ax.set_xlabel("iteration")
    ax.set_ylabel(f"J per {unit} (cluster)")
    ax.set_title(
        f"{summary['ranks']} ranks on {summary['nodes']} node(s), {len(machines) or '?'} machine(s): {summary['energy_j']:.1f} J, "
        f"{summary['joules_per_sample'] * 1e3:.3f} mJ/{summary.get('sample_unit', 'sample')}, "
        f"comm share {100 * summary['comm_energy_share']:.1f} %")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0)
    for ext in ("png", "svg"):
        fig.savefig(run / f"energy.{ext}", dpi=110)
    print(f"plot: {run / 'energy.png'} and {run / 'energy.svg'}")


if __name__ == "__main__":
    if len(sys.argv) != 2 or not Path(sys.argv[1], "summary.json").exists():
        sys.exit("usage: plot_run.py RUN_DIR  (a directory written by ringwatt train)")
    main(Path(sys.argv[1]))
