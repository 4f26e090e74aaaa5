#!/usr/bin/env python3
"""The GPT's energy-versus-nodes plot from scripts/gpt-scaling-study.sh's run directories: joules
per token split compute / comm / other (bars, from zero) and time per token (line), at 1 and 10
Gbit/s, with overlap and a bf16 wire at 4 hosts; predict's J/token and time per token dashed.
Prints the table the plot shows. Writes OUT/gpt_energy_vs_nodes.png and .svg.

    python3 scripts/plot_gpt_scaling.py runs/gpt-scaling
"""
import csv
import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def point(run):
    s = json.load(open(run / "summary.json"))
    tokens = s["samples"]
    return {"run": run.name, "nodes": s["nodes"], "tokens": tokens, "t_iter": s["seconds"] / s["iterations"],
            "us_per_token": 1e6 * s["seconds"] / tokens, "compute": s["energy_compute_j"] / tokens,
            "comm": s["energy_comm_j"] / tokens, "other": s["energy_other_j"] / tokens,
            "j_per_token": s["energy_j"] / tokens, "comm_share": s["comm_energy_share"], "source": s["energy_source"]}


def main(out: Path) -> None:
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.5), constrained_layout=True, sharey=True)
    print("link      run            nodes  J/token   compute   comm      other     µs/token  t_iter_ms  predicted_ms  error  "
          "predicted J/token  error")
    for ax, gbit in zip(axes, (1, 10)):
        base = out / f"g{gbit}"
        runs = [base / name for name in ("n1", "n2", "n4", "n4-overlap", "n4-bf16") if (base / name / "summary.json").exists()]
        pts = [point(r) for r in runs]
        pred = {}
        if (base / "predict-errors.json").exists():
            pred = {e["nodes"]: e for e in json.load(open(base / "predict-errors.json"))}
        x = list(range(len(pts)))
        comp = [p["compute"] for p in pts]
        comm = [p["comm"] for p in pts]
        other = [p["other"] for p in pts]
        ax.bar(x, comp, color="#4c72b0", label="compute")
        ax.bar(x, comm, bottom=comp, color="#dd8452", label="comm")
        ax.bar(x, other, bottom=[a + b for a, b in zip(comp, comm)], color="#55a868", label="other")
        ax.set_xticks(x, [p["run"].replace("n", "").replace("-", "\n") for p in pts])
        ax.set_xlabel("hosts (emulated, one rank each)")
        ax.set_ylim(bottom=0)
        ax.set_title(f"GPT (3.26 M parameters), {gbit} Gbit/s links")
        ax2 = ax.twinx()
        ax2.plot(x, [p["us_per_token"] for p in pts], "r-s", label="time per token, measured")
        px = [i for i, p in enumerate(pts) if "-" not in p["run"] and p["nodes"] in pred]
        if px:  # predicted µs/token = predicted t_iter × (measured µs/token ÷ measured t_iter): tokens per iteration
            ax2.plot(px, [pred[pts[i]["nodes"]]["t_iter_predicted_s"] * pts[i]["us_per_token"] / pts[i]["t_iter"] for i in px],
                     "r:^", label="time per token, predicted")
            ax.plot(px, [pred[pts[i]["nodes"]]["j_per_sample_predicted"] for i in px], "k_", markersize=28, mew=2,
                    label="energy per token, predicted")
        ax2.set_ylim(bottom=0)
        ax2.set_ylabel("time per token (µs)", color="r")
        for p in pts:
            e = pred.get(p["nodes"]) if "-" not in p["run"] else None
            pm = (f"{1e3 * e['t_iter_predicted_s']:12.1f}  {100 * e['t_iter_error']:+5.1f} %  {e['j_per_sample_predicted']:17.6f}  "
                  f"{100 * e['energy_error']:+5.1f} %") if e else f"{'-':>12}  {'-':>7}  {'-':>17}  {'-':>7}"
            print(f"{gbit:>2} Gbit/s  {p['run']:<13} {p['nodes']:>5}  {p['j_per_token']:.6f}  {p['compute']:.6f}  {p['comm']:.6f}  "
                  f"{p['other']:.6f}  {p['us_per_token']:8.1f}  {1e3 * p['t_iter']:9.1f}  {pm}")
    axes[0].set_ylabel("energy per token (J), estimate" if "estimate" in pts[0]["source"] else "energy per token (J)")
    h1, l1 = axes[0].get_legend_handles_labels()
    h2, l2 = fig.axes[2].get_legend_handles_labels()
    axes[0].legend(h1 + h2, l1 + l2, loc="upper left", fontsize=8)
    for ext in ("png", "svg"):
        fig.savefig(out / f"gpt_energy_vs_nodes.{ext}", dpi=120)
    print(f"plot: {out}/gpt_energy_vs_nodes.png and .svg")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "runs/gpt-scaling"))
