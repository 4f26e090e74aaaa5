#!/usr/bin/env python3
"""Energy-vs-nodes plots from OUT/compare.csv (`ringwatt compare --csv`), OUT/predict.csv if present
(`ringwatt predict --csv`), and each compared run's power.csv. Writes OUT/energy_vs_nodes,
OUT/energy_vs_nodes_predicted, OUT/speedup and OUT/power_timeline as PNG and SVG.

    python3 scripts/plot_scaling.py runs/scaling       # after scripts/scaling-study.sh
    bash scripts/plot-runs.sh OUT RUN_DIR…             # from any run directories in one command
"""
import csv
import sys
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def rows(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def save(fig, out, name):
    for ext in ("png", "svg"):
        fig.savefig(out / f"{name}.{ext}", dpi=120)
    plt.close(fig)
    print(f"plot: {out / name}.png and .svg")


def main(out: Path) -> None:
    measured = sorted(rows(out / "compare.csv"), key=lambda r: int(r["nodes"]))
    predicted = rows(out / "predict.csv") if (out / "predict.csv").exists() else []
    nodes = [int(r["nodes"]) for r in measured]
    comp = [float(r["compute_j"]) for r in measured]
    comm = [float(r["comm_j"]) for r in measured]
    other = [float(r["other_j"]) for r in measured]
    t = [float(r["s_per_epoch"]) for r in measured]

    fig, ax = plt.subplots(figsize=(9, 5.5), constrained_layout=True)
    x = range(len(nodes))
    ax.bar(x, comp, label="compute (measured)", color="#4c72b0")
    ax.bar(x, comm, bottom=comp, label="comm (measured)", color="#dd8452")
    ax.bar(x, other, bottom=[a + b for a, b in zip(comp, comm)], label="other (measured)", color="#55a868")
    pred = {int(r["nodes"]): r for r in predicted}
    px = [i for i, n in enumerate(nodes) if n in pred]
    if px:
        ax.plot(px, [float(pred[nodes[i]]["energy_epoch_j"]) for i in px], "k--o", label="energy, predicted")
    ax.set_xticks(list(x), [str(n) for n in nodes])
    ax.set_xlabel("nodes (emulated hosts, 1 rank each)")
    ax.set_ylabel("energy per epoch (J)")
    ax2 = ax.twinx()
    ax2.plot(list(x), t, "r-s", label="time per epoch, measured")
    if px:
        ax2.plot(px, [float(pred[nodes[i]]["t_epoch_s"]) for i in px], "r:^", label="time per epoch, predicted")
    ax2.set_ylabel("time per epoch (s)", color="r")
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, loc="upper left", fontsize=8)
    ax.set_title("Energy per epoch vs nodes (Fashion-MNIST, 784-256-128-10)")
    save(fig, out, "energy_vs_nodes")

    if predicted:
        fig, ax = plt.subplots(figsize=(9, 5), constrained_layout=True)
        pn = [int(r["nodes"]) for r in predicted]
        ax.plot(pn, [float(r["energy_epoch_j"]) for r in predicted], "k-", label="energy per epoch, predicted")
        ax.plot(nodes, [a + b + c for a, b, c in zip(comp, comm, other)], "ko", label="measured")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("nodes")
        ax.set_ylabel("energy per epoch (J)")
        ax2 = ax.twinx()
        ax2.plot(pn, [float(r["t_epoch_s"]) for r in predicted], "r--", label="time per epoch, predicted")
        ax2.set_yscale("log")
        ax2.set_ylabel("time per epoch (s)", color="r")
        ax.legend(loc="upper left", fontsize=8)
        ax.set_title("Predicted energy and time per epoch, 1…%d nodes" % pn[-1])
        save(fig, out, "energy_vs_nodes_predicted")

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

    runs = [Path(r["run"]) for r in measured if Path(r["run"], "power.csv").exists()]
    if runs:
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


if __name__ == "__main__":
    if len(sys.argv) != 2 or not Path(sys.argv[1], "compare.csv").exists():
        sys.exit("usage: plot_scaling.py OUT  (a directory with compare.csv from `ringwatt compare --csv`)")
    main(Path(sys.argv[1]))
