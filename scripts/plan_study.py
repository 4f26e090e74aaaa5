#!/usr/bin/env python3
"""The summary of scripts/plan-study.sh, from each pass's OUT/gG/passP/plan.json that
`ringwatt plan --measured` wrote (the pass's runs against the plan from the pass's own calibration):
per configuration the median over passes of predicted and measured time per training iteration
and energy per sample or token, and of the errors; the worst errors, the Spearman rank correlation of predicted and
measured energy, and the regret of the plan's pick — the measured energy of the configuration the
plan ranks cheapest among those measured over the least measured energy — with no deadline and
with a deadline of the 1×1 run's measured time per sample (the configurations that train at least
as fast as one rank)."""
import json
import os
import sys


def ranks(values):
    order = sorted(range(len(values)), key=lambda i: values[i])
    r = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            r[order[k]] = (i + j) / 2
        i = j + 1
    return r


def spearman(a, b):
    ra, rb = ranks(a), ranks(b)
    ma, mb = sum(ra) / len(ra), sum(rb) / len(rb)
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    va = sum((x - ma) ** 2 for x in ra) ** 0.5
    vb = sum((y - mb) ** 2 for y in rb) ** 0.5
    return cov / (va * vb) if va > 0 and vb > 0 else float("nan")


def median(values):
    """The upper middle, as Ringwatt takes it (Support's median)."""
    return sorted(values)[len(values) // 2]


def study(paths):
    grouped, rows, unit = {}, {}, None
    for path in paths:
        plan = json.load(open(path))
        unit = plan["unit"]
        rows.update({r["configuration"]: r for r in plan["rows"]})
        for m in plan["measured"]:
            grouped.setdefault(m["configuration"], []).append(m)
    out = []
    for label, ms in grouped.items():
        row = rows[label]
        batch = row["batch_per_rank"] * row["nodes"] * row["ranks_per_node"]
        t_pred, t_meas = median([m["t_iter_predicted_s"] for m in ms]), median([m["t_iter_measured_s"] for m in ms])
        j_pred, j_meas = median([m["j_per_sample_predicted"] for m in ms]), median([m["j_per_sample_measured"] for m in ms])
        out.append(dict(label=label, t_pred=t_pred, t_meas=t_meas, et=median([m["t_iter_error"] for m in ms]), j_pred=j_pred,
                        j_meas=j_meas, ee=median([m["energy_error"] for m in ms]), s_pred=t_pred / batch, s_meas=t_meas / batch,
                        repeats=len(ms)))
    out.sort(key=lambda r: r["label"])
    print(f"{'configuration':28s} {'t_iter pred ms':>14s} {'meas ms':>9s} {'error':>7s}  "
          f"{'J/' + unit + ' pred':>14s} {'meas':>10s} {'error':>7s}")
    for r in out:
        print(f"{r['label']:28s} {1e3 * r['t_pred']:14.2f} {1e3 * r['t_meas']:9.2f} {100 * r['et']:+6.1f}%  "
              f"{r['j_pred']:14.5g} {r['j_meas']:10.5g} {100 * r['ee']:+6.1f}%")
    rho = spearman([r["j_pred"] for r in out], [r["j_meas"] for r in out])
    print(f"{len(out)} configurations, {min(r['repeats'] for r in out)}–{max(r['repeats'] for r in out)} runs each (median): worst |time error| {100 * max(abs(r['et']) for r in out):.1f} %, "
          f"worst |energy error| {100 * max(abs(r['ee']) for r in out):.1f} %, within 15 %: "
          f"{sum(abs(r['et']) <= 0.15 and abs(r['ee']) <= 0.15 for r in out)} of {len(out)}; "
          f"rank correlation of energy {rho:.3f}")
    one = next((r for r in out if r["label"] == "1×1"), None)
    for title, deadline in [("no deadline", None), ("deadline: as fast per sample as 1×1", one and one["s_meas"])]:
        fp = [r for r in out if deadline is None or r["s_pred"] <= deadline]
        fm = [r for r in out if deadline is None or r["s_meas"] <= deadline]
        if not fp or not fm:
            print(f"regret ({title}): no configuration meets it")
            continue
        pick, best = min(fp, key=lambda r: r["j_pred"]), min(fm, key=lambda r: r["j_meas"])
        late = "" if deadline is None or pick["s_meas"] <= deadline else " (the pick missed the deadline when measured)"
        print(f"regret ({title}): pick {pick['label']} measured {pick['j_meas']:.5g} J/{unit}, best measured "
              f"{best['label']} {best['j_meas']:.5g}: {100 * (pick['j_meas'] / best['j_meas'] - 1):.1f} %{late}")


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "runs/plan-study-gpt"
    for name in sorted(os.listdir(root), key=lambda n: float(n[1:]) if n[1:].replace(".", "").isdigit() else 0):
        d = os.path.join(root, name)
        passes = sorted(os.path.join(d, p, "plan.json") for p in os.listdir(d) if p.startswith("pass")) if os.path.isdir(d) else []
        passes = [p for p in passes if os.path.exists(p)]
        if name.startswith("g") and passes:
            print(f"== {name[1:]} Gbit/s ({d}, {len(passes)} passes; medians over them)")
            study(passes)


if __name__ == "__main__":
    main()
