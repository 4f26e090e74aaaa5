#!/usr/bin/env python3
"""The summary of scripts/plan-study.sh, from each pass's OUT/gG/passP/plan.json that
`ringwatt plan --measured` wrote (the pass's runs against the plan from the pass's own calibration):
per configuration the median over passes of predicted and measured time per training iteration
and energy per sample or token, and the errors of those medians (the figures shown, not a middle of the passes' errors); the worst errors, the Spearman rank correlation of predicted and
measured energy, how many of the pairs of configurations the runs tell apart the plan orders the same
way, and the regret of the plan's pick — the measured energy of the configuration the
plan ranks cheapest among those measured over the least measured energy — with no deadline and
with a deadline of the 1×1 run's measured time per sample (the configurations that train at least
as fast as one rank). Then how repeatable the measurement itself is: the odd passes' medians against
the even passes' (measured against measured), in the same terms — what no prediction can beat.
Last, what overlap costs compute, the term the overlap calibration and the thread's CPU price: per
topology and wire, compute with overlap on less with it off (one bucket), predicted (the rows'
time less exposed communication) against measured (each pass's runs, their slowest rank's median
training iteration's compute)."""
import json
import math
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
    for index, path in enumerate(paths):
        plan = json.load(open(path))
        unit = plan["unit"]
        rows.update({r["configuration"]: r for r in plan["rows"]})
        for m in plan["measured"]:
            grouped.setdefault(m["configuration"], []).append(dict(m, pass_index=index))
    out = []
    for label, ms in grouped.items():
        row, j = rows[label], [m["j_per_sample_measured"] for m in ms]
        batch = row["batch_per_rank"] * row["nodes"] * row["ranks_per_node"]
        t_pred, t_meas = median([m["t_iter_predicted_s"] for m in ms]), median([m["t_iter_measured_s"] for m in ms])
        j_pred, j_meas = median([m["j_per_sample_predicted"] for m in ms]), median(j)
        out.append(dict(label=label, t_pred=t_pred, t_meas=t_meas, et=t_pred / t_meas - 1, j_pred=j_pred,
                        j_meas=j_meas, ee=j_pred / j_meas - 1, s_pred=t_pred / batch, s_meas=t_meas / batch,
                        repeats=len(ms), spread=(max(j) - min(j)) / j_meas, runs=j,
                        halves=[(median([m["t_iter_measured_s"] for m in half]), median([m["j_per_sample_measured"] for m in half]))
                                for half in ([m for m in ms if m["pass_index"] % 2 == 0], [m for m in ms if m["pass_index"] % 2 == 1])
                                if half]))
    out.sort(key=lambda r: r["label"])
    print(f"{'configuration':28s} {'t_iter pred ms':>14s} {'meas ms':>9s} {'error':>7s}  "
          f"{'J/' + unit + ' pred':>14s} {'meas':>10s} {'error':>7s} {'spread':>7s}")
    for r in out:
        print(f"{r['label']:28s} {1e3 * r['t_pred']:14.2f} {1e3 * r['t_meas']:9.2f} {100 * r['et']:+6.1f}%  "
              f"{r['j_pred']:14.5g} {r['j_meas']:10.5g} {100 * r['ee']:+6.1f}% {100 * r['spread']:6.1f}%")
    rho = spearman([r["j_pred"] for r in out], [r["j_meas"] for r in out])
    print(f"{len(out)} configurations, {min(r['repeats'] for r in out)}–{max(r['repeats'] for r in out)} runs each (median): worst |time error| {100 * max(abs(r['et']) for r in out):.1f} %, "
          f"worst |energy error| {100 * max(abs(r['ee']) for r in out):.1f} %, within 15 %: "
          f"{sum(abs(r['et']) <= 0.15 and abs(r['ee']) <= 0.15 for r in out)} of {len(out)}; "
          f"rank correlation of energy {rho:.3f}")
    print("(spread: the measured energy's range over the passes, max − min, over its median)")
    told_apart(out)
    repeatability(out)
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


def told_apart(out):
    """The ranking checked where the measurement itself ranks: the pairs of configurations whose
    runs do not overlap in energy (every run of one below every run of the other — two configurations
    that cost the same do so by chance in 2 of C(2n, n) orders of n runs each: 1 in 10 at three
    passes, 1 in 126 at five), and how many of them the plan orders the same way. Where repeated runs
    spread wider than the configurations differ, the rank correlation ranks noise; this does not."""
    n = min(len(r["runs"]) for r in out)
    if n < 2:
        print("pairs the runs tell apart: none can be, with one run of a configuration")
        return
    pairs = [(a, b) for i, a in enumerate(out) for b in out[i + 1:]]
    apart = [(low, high) for a, b in pairs for low, high in ((a, b), (b, a)) if max(low["runs"]) < min(high["runs"])]
    wrong = [(low, high) for low, high in apart if low["j_pred"] >= high["j_pred"]]
    print(f"pairs the runs tell apart (every run of one below every run of the other; two alike by chance 1 in "
          f"{math.comb(2 * n, n) // 2}): {len(apart)} of {len(pairs)}; "
          f"the plan orders {len(apart) - len(wrong)} of them the same way"
          + "".join(f"; not {low['label']} below {high['label']}" for low, high in wrong[:3])
          + (f"; … {len(wrong) - 3} more" if len(wrong) > 3 else ""))


def repeatability(out):
    """The measurement against itself: per configuration the median of the odd passes (1, 3, 5 …)
    against that of the even ones, in the terms the prediction is judged by."""
    pairs = [r["halves"] for r in out if len(r["halves"]) == 2]
    if len(pairs) < 3:
        return
    et = [b[0] / a[0] - 1 for a, b in pairs]
    ee = [b[1] / a[1] - 1 for a, b in pairs]
    rho = spearman([a[1] for a, _ in pairs], [b[1] for _, b in pairs])
    # Regret: pick the least energy by the odd passes, judge it by the even ones (no deadline).
    pick = min(pairs, key=lambda pair: pair[0][1])[1][1]
    print(f"repeatability (odd passes' medians against even passes', measured against measured): worst |time difference| "
          f"{100 * max(map(abs, et)):.1f} %, worst |energy difference| {100 * max(map(abs, ee)):.1f} %, within 15 %: "
          f"{sum(abs(a) <= 0.15 and abs(b) <= 0.15 for a, b in zip(et, ee))} of {len(pairs)}; rank correlation of energy {rho:.3f}; "
          f"regret (no deadline) {100 * (pick / min(b[1] for _, b in pairs) - 1):.1f} %")


def run_compute(run):
    """A run's slowest rank's compute in its median training iteration (as plan calibrates)."""
    lines = [json.loads(line) for line in open(os.path.join(run, "iterations.jsonl"))]
    return median([l.get("compute_max_s") or l["compute_s"] for l in lines if l["eval_s"] == 0 and l["samples"] > 0])


def overlap_compute(passes):
    """Compute with overlap on less off, per topology and wire: predicted against measured."""
    rows = {r["configuration"]: r for r in json.load(open(passes[0]))["rows"]}
    dirs = [os.path.dirname(p) for p in passes]
    found = False
    for name in sorted({n[:-len("-on")] for d in dirs for n in os.listdir(d) if n.endswith("-on")}):
        shape, wire = name.split("-")
        label = shape.replace("x", "×") + " " + wire
        on = next((r for l, r in rows.items() if l.startswith(label + " overlap")), None)
        off = rows.get(label + " 1 bucket")
        runs = [(os.path.join(d, name + "-on"), os.path.join(d, name + "-off")) for d in dirs]
        measured = [1e3 * (run_compute(a) - run_compute(b)) for a, b in runs
                    if all(os.path.exists(os.path.join(r, "iterations.jsonl")) for r in (a, b))]
        if on is None or off is None or not measured:
            continue
        if not found:
            print("compute with overlap on less off (ms a step): predicted, measured median [each pass]")
            found = True
        predicted = 1e3 * ((on["t_iter_s"] - on["comm_exposed_s"]) - (off["t_iter_s"] - off["comm_exposed_s"]))
        print(f"  {label:12s} {predicted:8.1f} {median(measured):8.1f}  [{', '.join(f'{m:+.1f}' for m in measured)}]")


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "runs/plan-study-gpt"
    for name in sorted(os.listdir(root), key=lambda n: float(n[1:]) if n[1:].replace(".", "").isdigit() else 0):
        d = os.path.join(root, name)
        # In the order they ran (pass10 after pass9): the odd and even passes are the interleaved halves.
        names = sorted((p for p in os.listdir(d) if p.startswith("pass") and p[4:].isdigit()), key=lambda p: int(p[4:])) if os.path.isdir(d) else []
        passes = [os.path.join(d, p, "plan.json") for p in names]
        passes = [p for p in passes if os.path.exists(p)]
        if name.startswith("g") and passes:
            print(f"== {name[1:]} Gbit/s ({d}, {len(passes)} passes; medians over them)")
            study(passes)
            overlap_compute(passes)


if __name__ == "__main__":
    main()
