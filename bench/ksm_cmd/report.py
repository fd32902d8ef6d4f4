#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn the raw ksm_cmd benchmark records into ksm_cmd.json and plots.

  report.py RAWDIR RESULTSDIR

RAWDIR holds runs.jsonl (one record per workload and configuration, and
per run for C and D), samples.csv (pages_sharing over time) and
d_samples.csv (D's merged pages per guest over time). Writes
RESULTSDIR/ksm_cmd.json, ksm_cmd_comparisons.png and ksm_cmd_sharing.png
(A and B), ksm_cmd_C.png and ksm_cmd_D.png, and prints the Markdown tables.
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


AB_HEADER = """\
| workload | config | comparisons/scanned page | vs none | \
bytes/scanned page | ksmd CPU ms | vs stock | pages_sharing | \
vs stock | t95 s |
|---|---|---|---|---|---|---|---|---|---|"""


def fmt(v, spec):
    return "-" if v is None else format(v, spec)


def mean(values):
    vals = [v for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


def ratio(a, b):
    return a / b if a is not None and b else None


def by_config(runs, keys):
    """{config: {"runs": [...], "mean": {...}}} in order of first run."""
    out = {}
    for r in runs:
        out.setdefault(r["config"], {"runs": []})["runs"].append(r)
    for c in out.values():
        c["mean"] = {k: mean([r.get(k) for r in c["runs"]]) for k in keys
                     if any(r.get(k) is not None for r in c["runs"])}
        c["n"] = len(c["runs"])
        # Timings that were not reached within the run count as missing.
        miss = {k: sum(1 for r in c["runs"] if k in r and r[k] is None)
                for k in keys}
        c["not_reached"] = {k: v for k, v in miss.items() if v}
    return out


def vs_stock(configs, keys):
    stock = configs.get("stock")
    if not stock:
        return {}
    return {c: {k: ratio(v["mean"].get(k), stock["mean"].get(k))
                for k in keys}
            for c, v in configs.items() if c != "stock"}


def pairs(runs, keys):
    """Ratios to stock within each alternating pair (runs 1-2, 3-4, ...)."""
    out = []
    rs = sorted(runs, key=lambda r: r["run"])
    for a, b in zip(rs[0::2], rs[1::2]):
        if {a["config"], b["config"]} != {"stock", "defaults"}:
            continue
        s, d = (a, b) if a["config"] == "stock" else (b, a)
        out.append({"runs": [a["run"], b["run"]],
                    **{k: ratio(d.get(k), s.get(k)) for k in keys}})
    return out


HOOKS = ["hook_calls", "hook_compares", "hook_bytes", "hook_key_settled",
         "hook_merges", "hook_checksums", "hook_checksums_vm",
         "hook_key_cache_hits", "hook_kpages_unknown", "hook_unknown_anon",
         "hook_nomem", "hook_unique_volatile"]
C_KEYS = ["ksmd_cpu_ms", "pages_scanned", "pages_sharing", "pages_shared",
          "t95_s", "seconds", "passes", "sharing_at_s"] + HOOKS
RATIO_KEYS = ["ksmd_cpu_ms", "pages_sharing", "t95_s"]


def summarize_C(runs, run_samples):
    """Workload C: stock and the defaults over alternating runs."""
    if not runs:
        return None
    per_run = []
    for r in sorted(runs, key=lambda r: r["run"]):
        pts = run_samples.get(("C", r["run"]), [])
        rec = {"run": r["run"], "config": r["config"]}
        rec.update({k: r[k] for k in C_KEYS if k in r})
        rec["t95_s"] = t95(pts, r["pages_sharing"])
        for k in ("classifier", "unique_filter", "metadata_bytes",
                  "tracked_pages", "unique_table_bytes"):
            if k in r:
                rec[k] = r[k]
        if "hook_compares" in r and r.get("pages_scanned"):
            rec["comparisons_per_scanned_page"] = \
                r["hook_compares"] / r["pages_scanned"]
            rec["bytes_per_scanned_page"] = r["hook_bytes"] / r["pages_scanned"]
        per_run.append(rec)
    configs = by_config(per_run, C_KEYS + ["comparisons_per_scanned_page",
                                           "bytes_per_scanned_page"])
    return {"order": [r["config"] for r in per_run],
            "configs": configs,
            "vs_stock": vs_stock(configs, RATIO_KEYS),
            "pairs_vs_stock": pairs(per_run, RATIO_KEYS)}


D_KEYS = ["ksm_t95_s", "ksm_t95_passes", "ksm_sharing_pct", "aged_t95_s",
          "aged_t95_passes", "aged_sharing_pct", "aged_t95_s_d3",
          "aged_t95_passes_d3", "aged_sharing_pct_d3", "ksmd_cpu_ms",
          "pages_scanned", "pages_sharing", "passes", "seconds",
          "settle_passes"] + HOOKS
D_RATIO_KEYS = ["ksm_t95_s", "aged_t95_s", "aged_t95_s_d3", "ksmd_cpu_ms",
                "pages_sharing"]


def summarize_D(runs):
    """Workload D: late writes of content that exists merged elsewhere."""
    if not runs:
        return None
    per_run = []
    for r in sorted(runs, key=lambda r: r["run"]):
        rec = dict(r)
        n = r["region_pages"]
        for ph, key in (("ksm", "ksm_merged"), ("aged", "aged_merged"),
                        ("aged_d3", "aged_merged_d3")):
            suffix = "_d3" if ph.endswith("_d3") else ""
            rec[f"{ph.split('_')[0]}_sharing_pct{suffix}"] = \
                100.0 * r[key] / n
        per_run.append(rec)
    configs = by_config(per_run, D_KEYS)
    return {"order": [r["config"] for r in per_run],
            "region_pages": runs[0]["region_pages"],
            "configs": configs,
            "vs_stock": vs_stock(configs, D_RATIO_KEYS),
            "pairs_vs_stock": pairs(per_run, D_RATIO_KEYS)}


def print_pairs(prs):
    for p in prs:
        print(f"runs {p['runs'][0]}-{p['runs'][1]}, defaults vs stock: " +
              ", ".join(f"{k} {fmt(v, '.2f')}" for k, v in p.items()
                        if k != "runs"))


def table_C(wc, fmt):
    print()
    print("Workload C, means over the runs of each configuration:")
    print()
    print(AB_HEADER)
    for c, v in wc["configs"].items():
        m = v["mean"]
        vs = wc["vs_stock"].get(c, {}) if c != "stock" else \
            {k: 1.0 for k in RATIO_KEYS}
        print(f"| C | {c} ({v['n']} runs) | "
              f"{fmt(m.get('comparisons_per_scanned_page'), '.2f')} | - | "
              f"{fmt(m.get('bytes_per_scanned_page'), '.0f')} | "
              f"{fmt(m['ksmd_cpu_ms'], '.0f')} | "
              f"{fmt(vs.get('ksmd_cpu_ms'), '.2f')} | "
              f"{fmt(m['pages_sharing'], '.0f')} | "
              f"{fmt(vs.get('pages_sharing'), '.1%')} | "
              f"{fmt(m.get('t95_s'), '.0f')} |")
    tv = wc["vs_stock"].get("defaults", {}).get("t95_s")
    print(f"\nt95 of the defaults vs stock: {fmt(tv, '.2f')}")
    print_pairs(wc["pairs_vs_stock"])
    print()
    print("| run | config | ksmd CPU ms | pages_scanned | pages_sharing | "
          "t95 s | hook calls | compares | checksums_vm | unique_volatile |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    rs = sorted((r for c in wc["configs"].values() for r in c["runs"]),
                key=lambda r: r["run"])
    for r in rs:
        print(f"| {r['run']} | {r['config']} | {r['ksmd_cpu_ms']} | "
              f"{r['pages_scanned']} | {r['pages_sharing']} | "
              f"{fmt(r['t95_s'], '.1f')} | "
              + " | ".join(str(r.get(k, "-")) for k in
                           ("hook_calls", "hook_compares",
                            "hook_checksums_vm", "hook_unique_volatile"))
              + " |")


def table_D(wd, fmt):
    print()
    print(f"Workload D ({wd['region_pages']} pages per region): seconds "
          "(passes) from the write until 95% of the writing guest's region "
          "shares, and the share reached at the end of the window:")
    print()
    print("| run | config | \"ksm\": d3 s (passes) | reached | "
          "\"aged\": d1 s (passes) | reached | d3 s (passes) | reached | "
          "ksmd CPU ms | pages_sharing |")
    print("|---|---|---|---|---|---|---|---|---|---|")

    def row(run, c, r):
        print(f"| {run} | {c} | {fmt(r.get('ksm_t95_s'), '.1f')} "
              f"({fmt(r.get('ksm_t95_passes'), '.1f')}) | "
              f"{fmt(r.get('ksm_sharing_pct'), '.1f')}% | "
              f"{fmt(r.get('aged_t95_s'), '.1f')} "
              f"({fmt(r.get('aged_t95_passes'), '.1f')}) | "
              f"{fmt(r.get('aged_sharing_pct'), '.1f')}% | "
              f"{fmt(r.get('aged_t95_s_d3'), '.1f')} "
              f"({fmt(r.get('aged_t95_passes_d3'), '.1f')}) | "
              f"{fmt(r.get('aged_sharing_pct_d3'), '.1f')}% | "
              f"{fmt(r.get('ksmd_cpu_ms'), '.0f')} | "
              f"{fmt(r.get('pages_sharing'), '.0f')} |")
    rs = sorted((r for c in wd["configs"].values() for r in c["runs"]),
                key=lambda r: r["run"])
    for r in rs:
        row(r["run"], r["config"], r)
    for c, v in wd["configs"].items():
        row("mean", f"{c} ({v['n']} runs)", v["mean"])
    for c, v in wd["configs"].items():
        for k, x in v["not_reached"].items():
            print(f"\n{c}: {k} not reached within the window in {x} of "
                  f"{v['n']} runs (its mean is over the others)")
    for c, v in wd["vs_stock"].items():
        print(f"\n{c} vs stock: " + ", ".join(
            f"{k} {fmt(x, '.2f')}" for k, x in v.items()))
    print_pairs(wd["pairs_vs_stock"])


def read_d_samples(raw):
    out = {}
    path = os.path.join(raw, "d_samples.csv")
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for row in csv.DictReader(f):
            out.setdefault((int(row["run"]), row["phase"]), []).append(
                (float(row["t"]), int(row["m1"]), int(row["m2"]),
                 int(row["m3"])))
    return out


COLORS = {"stock": "tab:blue", "defaults": "tab:orange"}


def plot_C(plt, wc, run_samples, outdir):
    rs = sorted((r for c in wc["configs"].values() for r in c["runs"]),
                key=lambda r: r["run"])
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.2))
    for r in rs:
        pts = run_samples.get(("C", r["run"]), [])
        axes[0].plot([p[0] for p in pts], [p[1] for p in pts],
                     color=COLORS.get(r["config"]),
                     linestyle="-" if r["run"] % 2 else "--",
                     label=f"run {r['run']} {r['config']}")
    axes[0].set_title("workload C: pages_sharing over time")
    axes[0].set_xlabel("seconds since ksmd started")
    axes[0].legend(fontsize=7)
    xs = range(len(rs))
    labels = [f"{r['run']}\n{r['config']}" for r in rs]
    cols = [COLORS.get(r["config"]) for r in rs]
    axes[1].bar(xs, [r["ksmd_cpu_ms"] / 1000 for r in rs], color=cols)
    axes[1].set_title("ksmd CPU seconds per run")
    axes[2].bar(xs, [r["t95_s"] or 0 for r in rs], color=cols)
    axes[2].set_title("t95 s per run (95% of final pages_sharing)")
    for ax in axes[1:]:
        ax.set_xticks(list(xs))
        ax.set_xticklabels(labels, fontsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(outdir, "ksm_cmd_C.png"), dpi=90)


def plot_D(plt, wd, dsamples, outdir):
    n = wd["region_pages"]
    rs = sorted((r for c in wd["configs"].values() for r in c["runs"]),
                key=lambda r: r["run"])
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.2))
    for ax, phase, col, base, title in (
            (axes[0], "ksm", 3, "ksm_base",
             "\"ksm\": d3 writes content d1 and d2 have merged"),
            (axes[1], "aged", 1, "aged_base",
             "\"aged\": d1 (d3 dotted) write the same new content")):
        for r in rs:
            pts = dsamples.get((r["run"], phase), [])
            ax.plot([p[0] for p in pts],
                    [100.0 * (p[col] - r[base]) / n for p in pts],
                    color=COLORS.get(r["config"]),
                    linestyle="-" if r["run"] % 2 else "--",
                    label=f"run {r['run']} {r['config']}")
            if phase == "aged":
                ax.plot([p[0] for p in pts],
                        [100.0 * (p[3] - r["aged_base_d3"]) / n
                         for p in pts],
                        color=COLORS.get(r["config"]), linewidth=0.7,
                        linestyle=":")
        ax.axhline(95, color="grey", linewidth=0.8)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("seconds since the write")
        ax.set_ylabel("% of the region merged (ksm_merging_pages)")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(outdir, "ksm_cmd_D.png"), dpi=90)


def main():
    raw, outdir = sys.argv[1], sys.argv[2]
    # "warmup" is B's first run, which is not reported.
    allruns = [json.loads(l) for l in open(os.path.join(raw, "runs.jsonl"))
               if l.strip()]
    runs = [r for r in allruns if r["config"] != "warmup" and
            r["workload"] in ("A", "B")]
    samples = {}
    run_samples = {}
    with open(os.path.join(raw, "samples.csv")) as f:
        for row in csv.DictReader(f):
            pt = (float(row["t"]), int(row["pages_sharing"]))
            if row["workload"] in ("A", "B"):
                key = (row["workload"], row["config"])
                samples.setdefault(key, []).append(pt)
            else:
                key = (row["workload"], int(row["run"]))
                run_samples.setdefault(key, []).append(pt)
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

    wc = summarize_C([r for r in allruns if r["workload"] == "C"],
                     run_samples)
    wd = summarize_D([r for r in allruns if r["workload"] == "D"])
    os.makedirs(outdir, exist_ok=True)
    out = {"records": records}
    if wc:
        out["C"] = wc
    if wd:
        out["D"] = wd
    with open(os.path.join(outdir, "ksm_cmd.json"), "w") as f:
        json.dump(out, f, indent=1)

    if records:
        print(AB_HEADER)
    for r in records:
        print(f"| {r['workload']} | {r['config']} | "
              f"{fmt(r.get('comparisons_per_scanned_page'), '.2f')} | "
              f"{fmt(r.get('comparisons_vs_none'), '.1%')} | "
              f"{fmt(r.get('bytes_per_scanned_page'), '.0f')} | "
              f"{r['ksmd_cpu_ms']} | {fmt(r.get('cpu_vs_stock'), '.2f')} | "
              f"{r['pages_sharing']} | {fmt(r.get('sharing_vs_stock'), '.1%')} | "
              f"{fmt(r['t95_s'], '.0f')} |")
    if wc:
        table_C(wc, fmt)
    if wd:
        table_D(wd, fmt)

    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is missing: no plots", file=sys.stderr)
        return 0
    if wc:
        plot_C(plt, wc, run_samples, outdir)
    if wd:
        plot_D(plt, wd, read_d_samples(raw), outdir)
    workloads = sorted({r["workload"] for r in records})
    if not workloads:
        return 0
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
