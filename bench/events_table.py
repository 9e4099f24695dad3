#!/usr/bin/env python3
"""Turns bench/events.sh's measurements (one argument each, KEY=VALUE lines)
into its tables: medians per backend and condition, the ratios between
conditions, and the delivery figures. Standard library only."""
import json
import statistics
import sys

LABELS = {"off": "no outbox (triggers dropped)", "none": "outbox, no endpoint", "hook": "outbox + endpoint"}


def parse(arg):
    return dict(line.split("=", 1) for line in arg.splitlines() if "=" in line)


def number(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def med(runs, key):
    values = [number(r.get(key)) for r in runs]
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v):
    return "–" if v is None else f"{v:,.0f}".replace(",", " ")


def main():
    runs = [parse(a) for a in sys.argv[1:]]
    backends = list(dict.fromkeys(r["backend"] for r in runs))
    print("| backend | condition | W1 req/s (median; runs) | W1 CPU µs/request | W6 rows/s (median; runs) | W6 CPU µs/row |")
    print("|---|---|---|---|---|---|")
    medians = {}
    for b in backends:
        for cond in LABELS:
            mine = [r for r in runs if r["backend"] == b and r["cond"] == cond]
            if not mine:
                continue
            m = {k: med(mine, k) for k in ("w1_rate", "w1_cpu_us", "w6_rate", "w6_cpu_us")}
            medians[(b, cond)] = m
            w1 = ", ".join(fmt(number(r.get("w1_rate"))) for r in mine)
            w6 = ", ".join(fmt(number(r.get("w6_rate"))) for r in mine)
            bad = [r["w1_errors"] for r in mine if r.get("w1_errors", "0") != "0"]
            note = f" ({'; '.join(bad)} failed)" if bad else ""
            print(f"| {b} | {LABELS[cond]} | **{fmt(m['w1_rate'])}** ({w1}){note} | {fmt(m['w1_cpu_us'])} "
                  f"| **{fmt(m['w6_rate'])}** ({w6}) | {fmt(m['w6_cpu_us'])} |")
    print()
    print("| backend | comparison | W1 throughput | W1 CPU/request | W6 throughput | W6 CPU/row |")
    print("|---|---|---|---|---|---|")
    for b in backends:
        for new, old in (("hook", "none"), ("none", "off"), ("hook", "off")):
            if (b, new) not in medians or (b, old) not in medians:
                continue
            n, o = medians[(b, new)], medians[(b, old)]

            def ratio(k):
                return "–" if not n[k] or not o[k] else f"{n[k] / o[k]:.2f}"
            print(f"| {b} | {LABELS[new]} / {LABELS[old]} | {ratio('w1_rate')} | {ratio('w1_cpu_us')} "
                  f"| {ratio('w6_rate')} | {ratio('w6_cpu_us')} |")
    print()
    print("| backend | live burst: written in | then drained in | deliveries/s | backlog: delivered in | deliveries/s | duplicates | missing |")
    print("|---|---|---|---|---|---|---|---|")
    for r in runs:
        if r["cond"] != "deliveries":
            continue
        live, backlog = json.loads(r["live_stats"]), json.loads(r["backlog_stats"])
        print(f"| {r['backend']} | {r['live_write_s']} s | {r['live_drain_s']} s | {fmt(number(r['live_rate']))} "
              f"| {r['backlog_s']} s | {fmt(number(r['backlog_rate']))} "
              f"| {live['duplicates']} + {backlog['duplicates']} | {live['missing_id'] + backlog['missing_id']} |")


if __name__ == "__main__":
    main()
