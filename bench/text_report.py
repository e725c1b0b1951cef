"""Text benchmarks: the printed report of bench_text's results."""

from __future__ import annotations

from typing import Any


def report(r: dict[str, Any]) -> None:
    m, b, lo = r["machine"], r["build"], r["load"]
    urls, keywords = sum(r["url_rows"].values()), sum(r["keyword_rules"].values())
    lines = [
        f"machine: {m['cpu']}, {m['cores']} cores; Python {m['python']}; {m['platform']}",
        f"database: {r['args']['database']}; {urls:,} URL rows, {keywords:,} keyword rules",
        f"generate lists {r['generate_s']:.1f} s; import URLs {r['import_urls_s']:.1f} s, "
        f"keywords {r['import_keywords_s']:.1f} s",
        f"index build from the store {b['seconds']:.1f} s, "
        f"RSS +{b['rss_after_mb'] - b['rss_before_mb']:.0f} MB ({b['rss_after_mb']:.0f} MB, "
        f"peak {b['peak_mb']:.0f} MB); snapshot save {b['save_seconds'] * 1e3:.0f} ms",
        f"snapshot load {lo['seconds'] * 1e3:.0f} ms, "
        f"RSS +{lo['rss_after_mb'] - lo['rss_before_mb']:.0f} MB ({lo['rss_after_mb']:.0f} MB, "
        f"peak {lo['peak_mb']:.0f} MB; {lo['rss_touched_mb']:.0f} MB with every index page "
        f"read); first match {lo['first_match_s'] * 1e3:.1f} ms",
        "",
        "msgs/CPU-s: messages per CPU second of this process (time.process_time, one thread "
        f"on core {r['cpu']}, so per core), median of {r['args']['repeats']} passes, each "
        "timing the rows of a mix side by side in slices of 250 messages; msgs/wall-s: "
        "perf_counter; p50/p99/max: perf_counter_ns around each call, one pass",
        f"{'mix':11} {'what':23} {'msgs/CPU-s':>11} {'msgs/wall-s':>11} {'p50 us':>8} "
        f"{'p99 us':>8} {'max us':>9}",
    ]
    for mix, figures in r["mixes"].items():
        for what in (
            "match_text",
            "match_text_clean",
            "match_text_planted",
            "match_text_cold",
            "match_text_planted_cold",
            "extract_urls",
            "keywords",
        ):
            s = figures[what]
            lines.append(
                f"{mix:11} {what:23} {s['msgs_per_cpu_s']:11,.0f} {s['msgs_per_wall_s']:11,.0f} "
                f"{s['p50_us']:8.1f} {s['p99_us']:8.1f} {s['max_us']:9.0f}"
            )
        lines.append(
            f"{'':11} ({figures['messages']:,} messages, {figures['clean']:,} clean, mean "
            f"{figures['mean_chars']:.0f} chars, {figures['urls_found']:,} URLs found)"
        )
    lines += ["", f"{'planted kind':48} {'planted':>7} {'found':>7} {'recall':>7} {'exact':>7}"]
    for kind, v in r["recall"].items():
        lines.append(
            f"{kind:48} {v['planted']:7} {v['found']:7} {v['found'] / v['planted']:7.1%} "
            f"{v['exact_span'] / v['planted']:7.1%}{'' if v['goal'] else '  (outside the goal)'}"
        )
    for kind, v in r["recall"].items():
        lines += [
            f"  miss [{kind}] {x['planted']!r} ({x['entry']}); URLs found {x['urls']}"
            for x in v["misses"][:2]
        ]
    lines += [
        "",
        f"false positives: {r['false_positive_messages']} of {r['clean_messages']:,} messages "
        "with nothing planted",
    ]
    for kind, v in r["benign_near_misses"].items():
        lines.append(f"  {kind:58} {v['messages']:6} messages, {v['false_positive_messages']} hit")
    for fp in r["false_positives"][:10]:
        found = [(x["entry"], x.get("matched")) for x in fp["matches"]]
        lines.append(f"  FP {fp['text']!r}: {found}")
    lines.append(f"other entries matched in planted messages: {r['extra_matches_in_planted']}")
    lines += [f"  extra {x['text']!r}: {x['match']}" for x in r["extra_examples"][:5]]
    lines.append(f"this process: RSS {r['rss_now_mb']:.0f} MB, peak {r['rss_peak_mb']:.0f} MB")
    print("\n" + "\n".join(lines))
