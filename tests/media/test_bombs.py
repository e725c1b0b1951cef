"""Decompression bombs answered in one line within bounded memory, measured for real: each
file is hashed by the ``hashguard`` command in a child process, whose peak RSS its parent
(another child, so nothing else is counted) reads from ``RUSAGE_CHILDREN``."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from hashguard.errors import DecompressionBomb
from hashguard.media.budget import BatchTally, DecodeGate
from hashguard.media.image import DEFAULT_LIMITS
from tests.media import bombs

GiB = 1 << 30
SLACK = 64 << 20  # interpreter and library noise between two runs of the same command

MEASURE = """
import json, resource, subprocess, sys
proc = subprocess.run(sys.argv[1:], capture_output=True, text=True, timeout=120)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
print(json.dumps({"out": proc.stdout, "err": proc.stderr, "rc": proc.returncode, "peak": peak}))
"""


def peak_of(*command: str) -> dict[str, object]:
    """Run ``command`` in a grandchild; its output, exit code and peak RSS in bytes."""
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, *command], capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


def hash_command(path: Path) -> list[str]:
    return [sys.executable, "-m", "hashguard.cli", "hash", str(path)]


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> int:
    """Peak RSS of the same command hashing a small image: the interpreter and libraries."""
    path = tmp_path_factory.mktemp("base") / "small.png"
    path.write_bytes(bombs.png(64, 64))
    run = peak_of(*hash_command(path))
    assert run["rc"] == 0, run
    peak = run["peak"]
    assert isinstance(peak, int)
    return peak


@pytest.mark.parametrize("name", sorted(bombs.BOMBS))
def test_bomb_gets_one_line_within_the_memory_budget(
    name: str, baseline: int, tmp_path: Path
) -> None:
    path = tmp_path / name
    path.write_bytes(bombs.BOMBS[name]())
    run = peak_of(*hash_command(path))
    lines = str(run["out"]).splitlines()
    assert len(lines) == 1, run
    answer = json.loads(lines[0])
    if "error" in answer:  # refused from the header: the limit and its setting are named
        assert "max_decode_bytes" in answer["error"] and run["rc"] == 3, answer
    else:
        assert answer["pdq"] and run["rc"] == 0, answer  # decoded within the budget
    peak = run["peak"]
    assert isinstance(peak, int)
    assert peak < GiB, f"{name}: peak {peak >> 20} MiB"
    assert peak - baseline < DEFAULT_LIMITS.max_decode_bytes + SLACK, (name, peak >> 20)


THREE_AT_ONCE = """
import resource, sys, threading
from hashguard.content import hash_content
data = open(sys.argv[1], "rb").read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
results = []
threads = [threading.Thread(target=lambda: results.append(hash_content(data))) for _ in range(3)]
for t in threads: t.start()
for t in threads: t.join()
assert all(r.pdq is not None for r in results), [r.media_error for r in results]
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before)
"""


def test_decodes_at_once_in_a_process_share_one_budget(tmp_path: Path) -> None:
    """Three threads (three uploads being served) each decoding a 196 MB image: together
    they stay within the one 256 MiB budget, a decode waiting for room."""
    path = tmp_path / "rgba.png"
    path.write_bytes(bombs.png(7000, 7000, colour=6, channels=4))  # 7000*7000*4 bytes
    done = subprocess.run(
        [sys.executable, "-c", THREE_AT_ONCE, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    grown = int(done.stdout)
    assert grown < DEFAULT_LIMITS.max_decode_bytes + SLACK, grown >> 20


def test_gate_makes_a_decode_wait_for_room() -> None:
    gate = DecodeGate(100)
    order: list[str] = []

    def second() -> None:
        with gate.hold(60):
            order.append(f"b in, {gate.used} used")

    with gate.hold(60):
        waiter = threading.Thread(target=second)
        waiter.start()
        time.sleep(0.2)
        order.append("a leaves")
    waiter.join(5)
    assert order == ["a leaves", "b in, 60 used"]
    assert gate.used == 0


def test_batch_tally_refuses_past_its_total() -> None:
    tally = BatchTally(100)
    tally.charge(60)
    with pytest.raises(DecompressionBomb, match="max_batch_decode_bytes"):
        tally.charge(60)
    tally.charge(40)
    assert tally.total == 100
