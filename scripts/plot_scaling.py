#!/usr/bin/env python3
"""The scale-out plots, for either workload, from a scaling study's directory or any run directories.

    python3 scripts/plot_scaling.py OUT              # after scripts/scaling-study.sh (OUT/gG/n1, n2, n4…)
    python3 scripts/plot_scaling.py OUT RUN_DIR…     # any runs: `ringwatt compare` them into OUT first

Writes into OUT, as PNG and SVG:
  energy_vs_nodes            per link rate: energy per sample (or token) split compute / comm / other
                             (bars, from zero), time per sample (line), predict's figures dashed where
                             predict-errors.json exists; variants (n4-overlap, n4-bf16) beside
  energy_vs_nodes_predicted  predict.csv's energy and time per epoch to many nodes, the measured points
  speedup                    speed-up and efficiency against the fewest nodes (compare.csv)
  power_timeline             every rank's power over time, per run
and prints the table the first plot shows. Every figure is read from the runs' own files.
"""
import csv
import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

VARIANTS = ("n4-overlap", "n4-bf16")


def rows(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def save(fig, out, name):
    for ext in ("png", "svg"):
        fig.savefig(out / f"{name}.{ext}", dpi=120)
    plt.close(fig)
    print(f"plot: {out / name}.png and .svg")


def point(run):
    """One run's figures per sample (or token), from its summary.json."""
    s = json.load(open(run / "summary.json"))
    n = max(1, s["samples"])
    # J per sample (or token), overall and by category, as the summary defines them (defined once, in Ringwatt).
    split = s.get("joules_per_sample_by_category") or {k: s[f"energy_{k}_j"] / n for k in ("compute", "comm", "other")}
    return {"run": run, "label": run.name, "nodes": s["nodes"], "unit": s.get("sample_unit") or "sample",
            "t_iter": s["seconds"] / max(1, s["iterations"]), "us_per_unit": 1e6 * s["seconds"] / n,
            "compute": split["compute"], "comm": split["comm"], "other": split["other"],
            "j_per_unit": s["joules_per_sample"], "source": s["energy_source"]}


def link_dirs(out):
    """The study's per-link directories (gG), or OUT itself for a plain set of runs."""
    dirs = sorted((d for d in out.glob("g*") if (d / "compare.csv").exists()), key=lambda d: float(d.name[1:] or 0))
    return dirs or [out]


def runs_of(d):
    runs = [Path(r["run"]) for r in sorted(rows(d / "compare.csv"), key=lambda r: int(r["nodes"]))]
    return runs + [d / v for v in VARIANTS if (d / v / "summary.json").exists()]


def energy_per_unit(out, dirs):
    fig, axes = plt.subplots(1, len(dirs), figsize=(6.5 * len(dirs), 5.5), constrained_layout=True, squeeze=False)
    # Measured figures are the runs' means; predict compares with the median training iteration
    # (evaluation left out), printed beside its prediction.
    print("link      run            nodes  J/unit    compute   comm      other     µs/unit   t_iter_ms  predicted_ms  median_ms  error  "
          "predicted J/unit  median J/unit  error")
    for ax, d in zip(axes[0], dirs):
        pts = [point(r) for r in runs_of(d)]
        pred = {e["nodes"]: e for e in json.load(open(d / "predict-errors.json"))} if (d / "predict-errors.json").exists() else {}
        x = list(range(len(pts)))
        comp, comm, other = ([p[k] for p in pts] for k in ("compute", "comm", "other"))
        ax.bar(x, comp, color="#4c72b0", label="compute")
        ax.bar(x, comm, bottom=comp, color="#dd8452", label="comm")
        ax.bar(x, other, bottom=[a + b for a, b in zip(comp, comm)], color="#55a868", label="other")
        ax.set_xticks(x, [p["label"].replace("n", "", 1).replace("-", "\n") for p in pts])
        ax.set_xlabel("nodes")
        ax.set_ylim(bottom=0)
        unit = pts[0]["unit"]
        ax.set_ylabel(f"energy per {unit} (J)" + (", estimate" if "estimate" in pts[0]["source"] else ""))
        ax.set_title(d.name.replace("g", "", 1) + " Gbit/s links" if d != out else "measured runs")
        ax2 = ax.twinx()
        ax2.plot(x, [p["us_per_unit"] for p in pts], "r-s", label=f"time per {unit}, measured")
        px = [i for i, p in enumerate(pts) if p["label"] not in VARIANTS and p["nodes"] in pred]
        if px:  # predicted time per unit = predicted t_iter × (measured µs per unit ÷ measured t_iter)
            ax2.plot(px, [pred[pts[i]["nodes"]]["t_iter_predicted_s"] * pts[i]["us_per_unit"] / pts[i]["t_iter"] for i in px],
                     "r:^", label=f"time per {unit}, predicted")
            ax.plot(px, [pred[pts[i]["nodes"]]["j_per_sample_predicted"] for i in px], "k_", markersize=28, mew=2,
                    label=f"energy per {unit}, predicted")
        times = [p["us_per_unit"] for p in pts] + [pred[pts[i]["nodes"]]["t_iter_predicted_s"] * pts[i]["us_per_unit"] / pts[i]["t_iter"] for i in px]
        ax2.set_ylim(bottom=0, top=1.35 * max(times))
        tallest = max([a + b + c for a, b, c in zip(comp, comm, other)] + [pred[pts[i]["nodes"]]["j_per_sample_predicted"] for i in px])
        ax.set_ylim(top=1.35 * tallest)  # nothing clipped, room above for the legend
        ax2.set_ylabel(f"time per {unit} (µs)", color="r")
        h1, l1 = ax.get_legend_handles_labels()
        h2, l2 = ax2.get_legend_handles_labels()
        ax.legend(h1 + h2, l1 + l2, loc="upper center", bbox_to_anchor=(0.5, -0.16), fontsize=8, ncol=2)  # below, never over bars
        for p in pts:
            e = pred.get(p["nodes"]) if p["label"] not in VARIANTS else None
            pm = (f"{1e3 * e['t_iter_predicted_s']:12.3f}  {1e3 * e['t_iter_measured_s']:9.3f}  {100 * e['t_iter_error']:+5.1f} %  "
                  f"{e['j_per_sample_predicted']:16.6g}  {e['j_per_sample_measured']:13.6g}  {100 * e['energy_error']:+5.1f} %") \
                if e else f"{'-':>12}  {'-':>9}  {'-':>7}  {'-':>16}  {'-':>13}  {'-':>7}"
            print(f"{d.name:>8}  {p['label']:<13} {p['nodes']:>5}  {p['j_per_unit']:.6g}  {p['compute']:.6g}  {p['comm']:.6g}  "
                  f"{p['other']:.6g}  {p['us_per_unit']:8.2f}  {1e3 * p['t_iter']:9.3f}  {pm}")
    save(fig, out, "energy_vs_nodes")


def predicted_far(out, d):
    predicted, measured = rows(d / "predict.csv"), rows(d / "compare.csv")
    fig, ax = plt.subplots(figsize=(9, 5), constrained_layout=True)
    pn = [int(r["nodes"]) for r in predicted]
    ax.plot(pn, [float(r["energy_epoch_j"]) for r in predicted], "k-", label="energy per epoch, predicted")
    ax.plot([int(r["nodes"]) for r in measured], [float(r["energy_per_epoch_j"]) for r in measured], "ko", label="measured")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("nodes")
    ax.set_ylabel("energy per epoch (J)")
    ax2 = ax.twinx()
    ax2.plot(pn, [float(r["t_epoch_s"]) for r in predicted], "r--", label="time per epoch, predicted")
    ax2.set_yscale("log")
    ax2.set_ylabel("time per epoch (s)", color="r")
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title(f"Predicted energy and time per epoch, 1…{pn[-1]} nodes ({d.name})")
    save(fig, out, "energy_vs_nodes_predicted")


def speedup(out, d):
    measured = sorted(rows(d / "compare.csv"), key=lambda r: int(r["nodes"]))
    nodes = [int(r["nodes"]) for r in measured]
    fig, ax = plt.subplots(figsize=(8, 4.5), constrained_layout=True)
    ax.plot(nodes, [float(r["speedup"]) for r in measured], "b-o", label="speed-up")
    ax.plot(nodes, nodes, "b:", label="ideal")
    ax.set_xlabel("nodes")
    ax.set_ylabel("speed-up per epoch")
    ax2 = ax.twinx()
    ax2.plot(nodes, [float(r["efficiency"]) for r in measured], "g-s", label="efficiency")
    ax2.set_ylabel("scaling efficiency", color="g")
    ax2.set_ylim(0, 1.1)
    ax.legend(loc="upper left")
    ax.set_title("Speed-up and efficiency vs nodes")
    save(fig, out, "speedup")


def power_timeline(out, d):
    runs = [r for r in runs_of(d) if (r / "power.csv").exists()]
    if not runs:
        return
    fig, axes = plt.subplots(len(runs), 1, figsize=(9, 2.4 * len(runs)), constrained_layout=True, squeeze=False)
    for axis, run in zip(axes[:, 0], runs):
        series = defaultdict(lambda: ([], []))
        for r in rows(run / "power.csv"):
            series[r["rank"]][0].append(float(r["t_s"]))
            series[r["rank"]][1].append(float(r["watts"]))
        for rank, (ts, ws) in sorted(series.items(), key=lambda kv: int(kv[0])):
            axis.plot(ts, ws, linewidth=0.8, label=f"rank {rank}")
        axis.set_title(str(run), fontsize=9)
        axis.set_ylabel("W")
        axis.legend(fontsize=7, loc="upper right")
    axes[-1, 0].set_xlabel("time since start (s)")
    save(fig, out, "power_timeline")


def main(out, runs):
    out.mkdir(parents=True, exist_ok=True)
    if runs:
        here = Path(__file__).resolve().parent.parent
        binary = os.environ.get("RINGWATT_BIN") or str(here / ".build/release/ringwatt")
        subprocess.run([binary, "compare", *runs, "--csv", str(out / "compare.csv")], check=True)
    dirs = link_dirs(out)
    if not (dirs[0] / "compare.csv").exists():
        sys.exit(f"plot_scaling: {out} holds no compare.csv and no gG/compare.csv; give run directories to compare")
    energy_per_unit(out, dirs)
    if (dirs[0] / "predict.csv").exists():
        predicted_far(out, dirs[0])
    speedup(out, dirs[0])
    power_timeline(out, dirs[0])


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(Path(sys.argv[1]), sys.argv[2:])
