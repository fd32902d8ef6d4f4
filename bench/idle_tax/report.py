#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn the raw idle_tax benchmark records into idle_tax.json and a plot.

  report.py RAWDIR RESULTSDIR

RAWDIR holds runs.jsonl (one record per tax rate) and samples.csv (each
guest's target, resident memory and active fraction every two seconds).
Writes RESULTSDIR/idle_tax.json, with one record per tax rate holding the
per-guest allocation time series, active_throughput and
active_major_faults, and RESULTSDIR/idle_tax_allocation.png. Prints a
Markdown table.
"""
import csv
import json
import os
import sys

MIB = 1 << 20


def main():
    raw, outdir = sys.argv[1], sys.argv[2]
    runs = [json.loads(line) for line in open(os.path.join(raw, "runs.jsonl"))
            if line.strip()]
    series = {}
    with open(os.path.join(raw, "samples.csv")) as f:
        for row in csv.DictReader(f):
            key = float(row["tau"])
            g = series.setdefault(key, {}).setdefault(row["guest"], [])
            f_pm = row["active_permille"]
            g.append({"t": int(row["t"]),
                      "target_bytes": int(row["target"]),
                      "resident_bytes": int(row["resident"]),
                      "active_permille": int(f_pm) if f_pm.isdigit() else None})
    for r in runs:
        r["allocation"] = series.get(float(r["tau"]), {})
    runs.sort(key=lambda r: r["tau"])
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "idle_tax.json"), "w") as f:
        json.dump({"benchmark": "idle_tax", "runs": runs}, f, indent=1)

    def last(r, guest, field):
        pts = r["allocation"].get(guest, [])
        return pts[-1][field] / MIB if pts else float("nan")

    print("| tau | idle guest target (MiB) | active guest target (MiB) "
          "| active throughput (pages/s) | active major faults |")
    print("|---|---|---|---|---|")
    for r in runs:
        print(f"| {r['tau']} | {last(r, 'idle', 'target_bytes'):.0f} "
              f"| {last(r, 'active', 'target_bytes'):.0f} "
              f"| {r['active_throughput']:.0f} | {r['active_major_faults']} |")
    if len(runs) == 2 and runs[0]["active_throughput"]:
        a, b = runs
        print(f"\ntau {b['tau']} vs {a['tau']}: throughput "
              f"{b['active_throughput'] / a['active_throughput']:.2f}x, "
              f"major faults {b['active_major_faults']} vs "
              f"{a['active_major_faults']}")

    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is missing: no plots", file=sys.stderr)
        return 0
    fig, axes = plt.subplots(1, len(runs), figsize=(5 * len(runs), 3.6),
                             sharey=True, squeeze=False)
    for ax, r in zip(axes[0], runs):
        for guest, color in (("active", "tab:red"), ("idle", "tab:blue")):
            pts = r["allocation"].get(guest, [])
            t = [p["t"] for p in pts]
            ax.plot(t, [p["target_bytes"] / MIB for p in pts], color=color,
                    label=f"{guest}: target")
            ax.plot(t, [p["resident_bytes"] / MIB for p in pts], color=color,
                    linestyle=":", label=f"{guest}: resident")
        ax.set_title(f"tax rate {r['tau']}")
        ax.set_xlabel("seconds")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("MiB")
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(outdir, "idle_tax_allocation.png"), dpi=90)
    return 0


if __name__ == "__main__":
    sys.exit(main())
