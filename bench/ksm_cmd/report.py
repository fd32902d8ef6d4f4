#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn the raw ksm_cmd benchmark records into ksm_cmd.json and plots.

  report.py RAWDIR RESULTSDIR

RAWDIR holds runs.jsonl (one record per workload and configuration) and
samples.csv (pages_sharing over time). Writes RESULTSDIR/ksm_cmd.json,
ksm_cmd_comparisons.png, ksm_cmd_sharing.png and prints a Markdown table.
"""
import csv
import json
import os
import sys

CONFIGS = ["stock", "none", "address", "write_count", "subpage", "checksum",
           "none+uniq", "checksum+uniq"]


def t95(samples, final):
    """Seconds until pages_sharing first reached 95% of its final value."""
    for t, sharing in samples:
        if sharing >= 0.95 * final:
            return t
    return None


def main():
    raw, outdir = sys.argv[1], sys.argv[2]
    # "warmup" is B's first run, which is not reported.
    runs = [json.loads(l) for l in open(os.path.join(raw, "runs.jsonl"))
            if l.strip()]
    runs = [r for r in runs if r["config"] != "warmup"]
    samples = {}
    with open(os.path.join(raw, "samples.csv")) as f:
        for row in csv.DictReader(f):
            key = (row["workload"], row["config"])
            samples.setdefault(key, []).append(
                (float(row["t"]), int(row["pages_sharing"])))
    # Stock ran first and last; its record is the mean of the two runs.
    stock = [r for r in runs if r["config"] in ("stock", "stock_end")]
    runs = [r for r in runs if r["config"] not in ("stock", "stock_end")]
    for w in sorted({r["workload"] for r in stock}):
        both = [r for r in stock if r["workload"] == w]
        mean = dict(both[0])
        mean["config"] = "stock"
        for k in ("seconds", "passes", "pages_scanned", "ksmd_cpu_ms",
                  "pages_sharing", "pages_shared", "sharing_at_s"):
            if all(k in r for r in both):
                v = sum(r[k] for r in both) / len(both)
                mean[k] = round(v, 2) if k in ("seconds", "sharing_at_s") \
                    else round(v)
        mean["runs"] = [{k: r[k] for k in ("ksmd_cpu_ms", "pages_sharing",
                                           "pages_scanned", "seconds")}
                        for r in both]
        runs.insert(0, mean)
        # The plot shows the first stock run.
        first = samples.get((w, "stock"))
        if first is None and (w, "stock_end") in samples:
            samples[(w, "stock")] = samples[(w, "stock_end")]
    records = []
    for r in runs:
        hooked = r["config"] != "stock"
        sample_key = (r["workload"], r["config"])
        rec = {
            "workload": r["workload"],
            "config": r["config"],
            "passes": r["passes"],
            "seconds": r["seconds"],
            "sharing_at_s": r.get("sharing_at_s"),
            "pages_scanned": r["pages_scanned"],
            "content_comparisons": r.get("hook_compares") if hooked else None,
            "bytes_compared": r.get("hook_bytes") if hooked else None,
            "hook_calls": r.get("hook_calls") if hooked else None,
            "key_settled": r.get("hook_key_settled") if hooked else None,
            "ksmd_cpu_ms": r["ksmd_cpu_ms"],
            "pages_sharing": r["pages_sharing"],
            "pages_shared": r["pages_shared"],
            "t95_s": t95(samples.get(sample_key, []), r["pages_sharing"]),
            "metadata_bytes": r.get("metadata_bytes"),
            "key_cache_hits": r.get("hook_key_cache_hits"),
            "stock_runs": r.get("runs"),
            "tracked_pages": r.get("tracked_pages"),
            "unique_volatile": r.get("hook_unique_volatile"),
            "unique_table_bytes": r.get("unique_table_bytes"),
        }
        scanned = max(rec["pages_scanned"], 1)
        if hooked and rec["content_comparisons"] is not None:
            rec["comparisons_per_scanned_page"] = \
                rec["content_comparisons"] / scanned
            rec["bytes_per_scanned_page"] = rec["bytes_compared"] / scanned
            if rec["tracked_pages"]:
                rec["metadata_overhead_pct"] = 100.0 * \
                    rec["metadata_bytes"] / (rec["tracked_pages"] * 4096)
        records.append(rec)

    order = {c: i for i, c in enumerate(CONFIGS)}
    records.sort(key=lambda r: (r["workload"], order.get(r["config"], 99)))
    # Ratios: comparisons against "none", sharing and CPU against "stock".
    by = {(r["workload"], r["config"]): r for r in records}
    for r in records:
        base = by.get((r["workload"], "none"))
        stock = by.get((r["workload"], "stock"))
        if base and r["content_comparisons"] is not None and \
                base["content_comparisons"]:
            r["comparisons_vs_none"] = \
                r["content_comparisons"] / base["content_comparisons"]
        if stock and stock["pages_sharing"]:
            r["sharing_vs_stock"] = r["pages_sharing"] / stock["pages_sharing"]
        if stock and stock["ksmd_cpu_ms"]:
            r["cpu_vs_stock"] = r["ksmd_cpu_ms"] / stock["ksmd_cpu_ms"]

    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "ksm_cmd.json"), "w") as f:
        json.dump({"records": records}, f, indent=1)

    print("| workload | config | comparisons/scanned page | vs none | "
          "bytes/scanned page | ksmd CPU ms | vs stock | pages_sharing | "
          "vs stock | t95 s |")
    print("|---|---|---|---|---|---|---|---|---|---|")

    def fmt(v, spec):
        return "-" if v is None else format(v, spec)
    for r in records:
        print(f"| {r['workload']} | {r['config']} | "
              f"{fmt(r.get('comparisons_per_scanned_page'), '.2f')} | "
              f"{fmt(r.get('comparisons_vs_none'), '.1%')} | "
              f"{fmt(r.get('bytes_per_scanned_page'), '.0f')} | "
              f"{r['ksmd_cpu_ms']} | {fmt(r.get('cpu_vs_stock'), '.2f')} | "
              f"{r['pages_sharing']} | {fmt(r.get('sharing_vs_stock'), '.1%')} | "
              f"{fmt(r['t95_s'], '.0f')} |")

    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is missing: no plots", file=sys.stderr)
        return 0
    workloads = sorted({r["workload"] for r in records})
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    width = 0.8 / max(len(workloads), 1)
    for wi, w in enumerate(workloads):
        cfgs = [c for c in CONFIGS if (w, c) in by]
        xs = [i + wi * width for i in range(len(cfgs))]
        axes[0].bar(xs, [by[(w, c)].get("comparisons_per_scanned_page") or 0
                         for c in cfgs], width, label=f"workload {w}")
        axes[1].bar(xs, [by[(w, c)]["ksmd_cpu_ms"] / 1000 for c in cfgs],
                    width, label=f"workload {w}")
        axes[2].bar(xs, [by[(w, c)].get("sharing_vs_stock", 0) * 100
                         for c in cfgs], width, label=f"workload {w}")
        for ax in axes:
            ax.set_xticks([i + width / 2 for i in range(len(cfgs))])
            ax.set_xticklabels(cfgs, rotation=30)
    axes[0].set_title("content comparisons per scanned page\n(stock: not hooked)")
    axes[1].set_title("ksmd CPU seconds")
    axes[2].set_title("pages_sharing, % of stock")
    axes[2].set_ylim(0, 110)
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(os.path.join(outdir, "ksm_cmd_comparisons.png"), dpi=90)

    fig, axes = plt.subplots(1, len(workloads), figsize=(7 * len(workloads), 4))
    if len(workloads) == 1:
        axes = [axes]
    for ax, w in zip(axes, workloads):
        for c in CONFIGS:
            pts = samples.get((w, c))
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], label=c)
        ax.set_title(f"workload {w}: pages_sharing over time")
        ax.set_xlabel("seconds since ksmd started")
        ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(outdir, "ksm_cmd_sharing.png"), dpi=90)
    return 0


if __name__ == "__main__":
    sys.exit(main())
