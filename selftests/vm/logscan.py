# SPDX-License-Identifier: GPL-2.0
"""Find kernel trouble in a console or dmesg log.

A run fails when the kernel log shows any of these. Each pattern names what
it catches; scan() returns (line number, name, line) for every hit.
"""
import re

PATTERNS = [
    ("bug", re.compile(r"\bBUG: ")),
    ("warning", re.compile(r"\bWARNING: ")),
    ("oops", re.compile(r"\bOops\b")),
    ("call-trace", re.compile(r"\bCall Trace:")),
    ("soft-lockup", re.compile(r"\bsoft lockup\b")),
    ("hard-lockup", re.compile(r"\bhard LOCKUP\b|NMI watchdog: Watchdog detected hard")),
    ("hung-task", re.compile(r"\bhung task\b|blocked for more than \d+ seconds")),
    ("rcu-stall", re.compile(r"rcu: INFO: .* detected stalls|self-detected stall")),
    ("panic", re.compile(r"Kernel panic - not syncing")),
    ("gpf", re.compile(r"general protection fault")),
    ("kasan", re.compile(r"\bKASAN: |\bKFENCE: |\bUBSAN: ")),
    # slub_debug: "BUG kmalloc-2k (Tainted: G  O): Poison overwritten"
    ("slub", re.compile(r"\bBUG [\w.:-]+ \([^)]*\): |\b(Poison|Redzone|Object padding) overwritten|\bFreepointer corrupt")),
    ("leak", re.compile(r"kmemleak: \d+ new suspected memory leaks")),
    ("list-corruption", re.compile(r"list_(add|del) corruption")),
]


def scan(text):
    """Every line of text that shows kernel trouble."""
    hits = []
    for n, line in enumerate(text.splitlines(), 1):
        for name, rx in PATTERNS:
            if rx.search(line):
                hits.append((n, name, line.rstrip()))
                break
    return hits


def scan_file(path):
    try:
        with open(path, "r", errors="replace") as f:
            return scan(f.read())
    except FileNotFoundError:
        return []


if __name__ == "__main__":
    import sys
    bad = 0
    for p in sys.argv[1:]:
        for n, name, line in scan_file(p):
            print(f"{p}:{n}: {name}: {line}")
            bad += 1
    sys.exit(1 if bad else 0)
