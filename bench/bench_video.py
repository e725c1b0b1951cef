"""Video (issue 13): conformance of hashguard's vPDQ to the reference hashes and to Meta's
``vpdq`` package, hashing speed against that package in the same run, and the matching
matrix over the shared clips (video vs video, frames vs image banks, images vs video banks).

The peer is ``vpdq`` 0.2.5 built in its own venv against Debian's FFmpeg (it has no wheel):
``bash bench/vpdq/setup.sh /tmp/vpdqenv`` first. Its CPU time, like ours, is the process's
CPU time over all threads, median of ``--repeats`` runs.

    flock /tmp/hashguard-bench.lock python bench/bench_video.py [--peer /tmp/vpdqenv/bin/python]
        [--videos ../shared/testdata/threatexchange/videos] [--repeats 3]
        [--only rates|index|shortcuts]
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _harness import machine
from PIL import Image

from hashguard.engine import Engine
from hashguard.lists.rows import entry_rows
from hashguard.media.video import Video
from hashguard.signals.pdq import hamming, pdq_hash
from hashguard.signals.vpdq import FrameHash, frame_hashes, hash_video, parse_frames
from hashguard.store.store import Store

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared" / "testdata" / "threatexchange"
ORIGINALS = {
    "chair": "chair-orig-22-sd-bar.mp4",
    "pattern": "pattern-hd-no-bar.mp4",
    "doorknob": "doorknob-hd-no-bar.mp4",
    "padded": "test-padded-dimensions.mp4",
}
HD = ("doorknob-hd-no-bar.mp4", "pattern-hd-no-bar.mp4", "pattern-longer-no-bar.mp4",
      "test-padded-dimensions.mp4")  # fmt: skip
QUERY_RATES = (2.0, 1.0, 0.5)  # seconds between a query's frames, for the trade-off table
LIST_RATES = (0.0, 0.1, 0.25, 1.0)  # ... and between a listed video's


def family(name: str) -> str:
    return name.split("-")[0] if not name.startswith("test-") else "padded"


def distances(ours: list[FrameHash], theirs: list[FrameHash]) -> list[int]:
    """Same-numbered frames, both of quality >= 80."""
    return [
        hamming(a.pdq, b.pdq)
        for a, b in zip(ours, theirs, strict=False)
        if a.quality >= 80 and b.quality >= 80
    ]


def summary(d: list[int]) -> str:
    if not d:
        return "no frames"
    close = sum(x <= 10 for x in d) / len(d)
    return f"{len(d)} frames, median {statistics.median(d):g}, max {max(d)}, {close:.1%} <= 10"


def peer(python: str, every: float, videos: list[Path], repeats: int) -> dict[str, dict]:
    out = subprocess.run(
        [python, str(HERE / "vpdq" / "peer.py"), "--seconds-per-hash", str(every),
         "--repeats", str(repeats), *map(str, videos)],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return {row["video"]: row for row in map(json.loads, out.splitlines())}


def peer_frames(row: dict) -> list[FrameHash]:
    return [FrameHash(round(t, 3), bytes.fromhex(h), q) for _, q, h, t in row["frames"]]


def ours_cpu(path: Path, every: float, repeats: int) -> float:
    """Median CPU seconds of hashing one clip as hashguard does (bars pass included)."""
    times = []
    for _ in range(repeats):
        start = time.process_time()
        hash_video(Video(path), every)
        times.append(time.process_time() - start)
    return statistics.median(times)


def conformance(videos: list[Path], peer_all: dict[str, dict] | None) -> None:
    print("\n## Conformance (every frame; same-numbered frames, quality >= 80 on both sides)")
    print("| clip | ours vs reference | vpdq vs reference | ours vs vpdq |")
    print("|---|---|---|---|")
    every: dict[str, list[int]] = {"ref": [], "peer": [], "ours_peer": []}
    for path in videos:
        ref_file = SHARED / "vpdq" / "sample-hashes" / f"{path.stem}.txt"
        reference = parse_frames(ref_file.read_text())
        ours = frame_hashes(Video(path), 0.0)
        theirs = peer_frames(peer_all[path.name]) if peer_all else []
        a, b, c = distances(ours, reference), distances(theirs, reference), distances(ours, theirs)
        every["ref"] += a
        every["peer"] += b
        every["ours_peer"] += c
        print(f"| {path.stem} | {summary(a)} | {summary(b)} | {summary(c)} |")
    totals = " | ".join(summary(every[k]) for k in ("ref", "peer", "ours_peer"))
    print(f"| all | {totals} |")


def speed(videos: list[Path], python: str | None, repeats: int) -> None:
    print("\n## Speed: video seconds hashed per CPU second (medians; higher is better)")
    durations = {p.name: Video(p).info.duration for p in videos}
    rows: dict[str, dict[str, float]] = {p.name: {} for p in videos}
    for p in videos:
        rows[p.name]["ours list (every frame)"] = ours_cpu(p, 0.0, repeats)
        rows[p.name]["ours query (1 s, key frames)"] = ours_cpu(p, 1.0, repeats)
    if python:
        for label, every in (("vpdq every frame", 0.0), ("vpdq 1 fps", 1.0)):
            for name, row in peer(python, every, videos, repeats).items():
                rows[name][label] = row["cpu_seconds"]
    labels = list(next(iter(rows.values())))
    print("| clips | " + " | ".join(labels) + " |")
    print("|---" * (len(labels) + 1) + "|")
    for group, names in (("SD", [p.name for p in videos if p.name not in HD]),
                         ("HD", [p.name for p in videos if p.name in HD])):  # fmt: skip
        seconds = sum(durations[n] for n in names)
        cells = [f"{seconds / sum(rows[n][lab] for n in names):.1f}" for lab in labels]
        print(f"| {group} ({len(names)} clips, {seconds:.0f} s) | " + " | ".join(cells) + " |")
        if python:
            ratio = sum(rows[n]["vpdq 1 fps"] for n in names) / sum(
                rows[n]["ours query (1 s, key frames)"] for n in names
            )
            listing = sum(rows[n]["vpdq every frame"] for n in names) / sum(
                rows[n]["ours list (every frame)"] for n in names
            )
            print(f"|  ratio ours/vpdq ({group}) | listing {listing:.2f}x | query vs 1 fps "
                  f"{ratio:.2f}x | | |")  # fmt: skip


def shortcuts(videos: list[Path]) -> None:
    """What the query rate's two shortcuts cost in accuracy and save in work: frames
    decoded when key frames stand in for the samples, and HD frames hashed at half size."""
    print("\n## Query shortcuts")
    decoded = total = 0
    for p in videos:
        video = Video(p)
        list(video.frames(1.0))
        decoded += video._frames_decoded
        total += sum(1 for _ in Video(p).frames())
    print(f"frames decoded at the 1 s query rate: {decoded} of {total} ({decoded / total:.1%})")
    bits: list[int] = []
    for p in videos:
        if p.name not in HD:
            continue
        full = frame_hashes(Video(p), 1.0)
        halves = Video(p).frames(1.0, scale=2)
        for f, half in zip(full, halves, strict=True):
            if f.quality >= 80:
                bits.append(hamming(f.pdq, pdq_hash(half.rgb)[0]))
    print(f"HD frames hashed at half size vs full size (quality >= 80): {summary(bits)}")


def _still(path: Path, at: float) -> bytes:
    import av

    picked = None
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            picked = frame  # the last one, if the clip ends before ``at``
            if float(frame.time or 0) >= at:
                break
    assert picked is not None
    out = io.BytesIO()
    Image.fromarray(picked.to_ndarray(format="rgb24")).save(out, "JPEG", quality=90)
    return out.getvalue()


def matrix(videos: list[Path], work: Path) -> None:
    store = Store(f"sqlite:///{work / 'matrix.db'}")
    store.create_bank("videos")
    store.create_bank("stills")
    lister = Engine(store, load=False)
    stills: dict[str, int] = {}
    for fam, name in ORIGINALS.items():
        path = SHARED / "videos" / name
        signals = [s for s in lister.hash(path, query=False).listed() if s[0] == "vpdq"]
        rows, _ = entry_rows(fam, signals, {}, store.registry)
        store.add_entry("videos", rows)
        # Stills of the original, one every 2 s, listed by PDQ.
        duration = Video(path).info.duration
        n = 0
        for i in range(int(duration // 2) + 1):
            image = lister.hash(_still(path, i * 2.0), query=False)
            pdq = [s for s in image.listed() if s[0] == "pdq"]
            rows, _ = entry_rows(f"{fam}@{i * 2}s", pdq, {}, store.registry)
            store.add_entry("stills", rows)
            n += 1
        stills[fam] = n
    engine = Engine(store)
    print("\n## Matching matrix (originals listed every frame; queries at the default rate)")
    print(
        "| query clip | vPDQ matches (query% / compared%, variant) | stills of its original "
        "found in its frames | stills of it matching a listed video |"
    )
    print("|---|---|---|---|")
    for path in videos:
        result = engine.match_file(path)
        vp = [m for m in result.matches if m.signal_type == "vpdq"]
        shown = ", ".join(
            f"{m.entry} {m.result['query_match_percent']:.0f}%/"
            f"{m.result['compared_match_percent']:.0f}%" + (f" ({m.variant})" if m.variant else "")
            for m in vp if m.result
        ) or "none"  # fmt: skip
        fam = family(path.name)
        found = {
            m.entry
            for m in result.matches
            if m.signal_type == "pdq" and m.entry.startswith(f"{fam}@")
        }
        wrong = {
            m.entry
            for m in result.matches
            if m.signal_type == "pdq" and not m.entry.startswith(f"{fam}@")
        }
        # Stills taken from this clip every second, each asked as an image.
        duration = Video(path).info.duration
        hits = total = 0
        for t in range(int(duration)):
            total += 1
            image = engine.match_content(_still(path, float(t)))
            hits += any(m.signal_type == "vpdq" and m.entry == fam for m in image.matches)
        print(f"| {path.name} | {shown} | {len(found)}/{stills[fam]}"
              + (f" (+{len(wrong)} other)" if wrong else "") + f" | {hits}/{total} |")  # fmt: skip
    store.close()


def tradeoff(videos: list[Path], work: Path) -> None:
    """Query rate against recall and CPU: every copy's query share of its original."""
    store = Store(f"sqlite:///{work / 'rates.db'}")
    store.create_bank("videos")
    lister = Engine(store, load=False)
    for fam in ("chair", "pattern"):
        signals = [s for s in lister.hash(SHARED / "videos" / ORIGINALS[fam], query=False).listed()
                   if s[0] == "vpdq"]  # fmt: skip
        rows, _ = entry_rows(fam, signals, {}, store.registry)
        store.add_entry("videos", rows)
    print("\n## Query rate: recall and cost (copies of chair and pattern; originals every frame)")
    print("| query every | copies matched | lowest query share | CPU s for all queries |")
    print("|---|---|---|---|")
    from hashguard.content import VideoOptions

    copies = [p for p in videos if family(p.name) in ("chair", "pattern")]
    for every in QUERY_RATES:
        engine = Engine(store, video=VideoOptions(query_every=every))
        start = time.process_time()
        shares = []
        for p in copies:
            vp = [m for m in engine.match_file(p).matches if m.signal_type == "vpdq"]
            best = max((m.result["query_match_percent"] for m in vp if m.result), default=0.0)
            if "large-logo" not in p.name:
                shares.append(best)
        cpu = time.process_time() - start
        matched = sum(s >= 80 for s in shares)
        print(f"| {every:g} s | {matched}/{len(shares)} | {min(shares):.0f}% | {cpu:.2f} |")
    store.close()


def listing_rates(videos: list[Path], work: Path) -> None:
    """Listing rate against recall and cost: originals listed sparser, copies at 1 s."""
    from hashguard.content import VideoOptions

    print("\n## Listing rate: recall and cost (copies of chair and pattern queried at 1 s)")
    print("| list every | frames listed | CPU s listing | copies matched | lowest query share |")
    print("|---|---|---|---|---|")
    copies = [p for p in videos if family(p.name) in ("chair", "pattern")]
    copies = [p for p in copies if "large-logo" not in p.name]
    for every in LIST_RATES:
        store = Store(f"sqlite:///{work / f'list-{every}.db'}")
        store.create_bank("videos")
        lister = Engine(store, load=False, video=VideoOptions(list_every=every))
        start = time.process_time()
        listed = 0
        for fam in ("chair", "pattern"):
            signals = [s for s in lister.hash(SHARED / "videos" / ORIGINALS[fam], query=False)
                       .listed() if s[0] == "vpdq"]  # fmt: skip
            listed += sum(len(parse_frames(v)) for _, v, _ in signals)
            rows, _ = entry_rows(fam, signals, {}, store.registry)
            store.add_entry("videos", rows)
        cpu = time.process_time() - start
        engine = Engine(store)
        shares = []
        for p in copies:
            vp = [m for m in engine.match_file(p).matches if m.signal_type == "vpdq"]
            shares.append(max((m.result["query_match_percent"] for m in vp if m.result), default=0))
        matched = sum(x >= 80 for x in shares)
        print(
            f"| {every:g} s | {listed} | {cpu:.1f} | {matched}/{len(shares)} | {min(shares):.0f}% |"
        )
        store.close()


def frame_index(videos_listed: int = 2000, frames_each: int = 500, queries: int = 50) -> None:
    """The frame index at 1M listed frames (random hashes): build time, memory, and the
    latency of a query of a 17 s clip's frames, each ~16 bits from its listed frame."""
    import numpy as np

    from hashguard.index.base import SearchLimits
    from hashguard.index.frames import FrameIndex, FrameKey

    rng = np.random.default_rng(1)
    codes = rng.integers(0, 256, (videos_listed * frames_each, 32), np.uint8)
    times = np.arange(frames_each) / 30.0
    keys = [
        FrameKey(codes[i * frames_each : (i + 1) * frames_each], times)
        for i in range(videos_listed)
    ]
    start = time.perf_counter()
    index = FrameIndex().filled(
        keys, np.arange(1, videos_listed + 1), np.ones(videos_listed, np.int32)
    )
    built = time.perf_counter() - start
    limits = SearchLimits({1: 31}, 31, {1: {}})
    took = []
    for _ in range(queries):
        v = int(rng.integers(0, videos_listed))
        q = codes[v * frames_each : (v + 1) * frames_each][::30].copy()
        flip = np.full(q.shape, 255, np.uint8)
        for _ in range(4):  # each bit set with probability 1/16: ~16 bits a frame
            flip &= rng.integers(0, 256, q.shape, np.uint8)
        q ^= flip
        start = time.perf_counter()
        hits = index.search_in([FrameKey(q, np.arange(len(q), dtype=float))], limits)
        took.append(time.perf_counter() - start)
        assert hits and hits[0].entry_pk == v + 1
    total = videos_listed * frames_each
    print(f"\n## Frame index: {total:,} frames of {videos_listed:,} videos")
    print(f"built in {built:.1f} s; {index.nbytes / total:.0f} bytes a frame; a 17-frame query: "
          f"median {statistics.median(took) * 1000:.1f} ms, p90 "
          f"{sorted(took)[int(0.9 * len(took))] * 1000:.1f} ms")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--videos", type=Path, default=SHARED / "videos")
    ap.add_argument("--peer", default="/tmp/vpdqenv/bin/python", help="the vpdq venv's python")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--skip-peer", action="store_true")
    ap.add_argument("--only", choices=("rates", "index", "shortcuts"), help="only that part")
    args = ap.parse_args()
    videos = sorted(args.videos.glob("*.mp4"))
    python = None if args.skip_peer or not Path(args.peer).exists() else args.peer
    print(json.dumps(machine(("av", "pdqhash"))))
    if python is None:
        print("(no vpdq peer: run bash bench/vpdq/setup.sh)", file=sys.stderr)
    if args.only == "index":
        frame_index()
        return
    if args.only == "shortcuts":
        shortcuts(videos)
        return
    with tempfile.TemporaryDirectory() as work:
        if args.only != "rates":
            conformance(videos, peer(python, 0.0, videos, 1) if python else None)
            speed(videos, python, args.repeats)
            shortcuts(videos)
            matrix(videos, Path(work))
        tradeoff(videos, Path(work))
        listing_rates(videos, Path(work))
    frame_index()


if __name__ == "__main__":
    main()
