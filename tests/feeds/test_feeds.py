"""Feeds: publish a bank, sync it elsewhere, and refuse anything forged, stale or damaged.

Real SQLite stores on both sides, real Ed25519 keys, real files and a real HTTP server on
loopback. The hashes are digests of random bytes and random PDQ-shaped hex: benign.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import stat
import urllib.parse
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from hashguard.errors import (
    ConfigError,
    Conflict,
    FeedRejected,
    FeedUnavailable,
    InvalidValue,
    RowError,
)
from hashguard.feeds.manifest import (
    Checkpoint,
    parse_manifest,
    seal,
)
from hashguard.feeds.publish import publish
from hashguard.feeds.signing import (
    generate_key,
    key_id,
    load_private_key,
    load_public_key,
    public_pem,
    trusted_keys,
)
from hashguard.feeds.sync import MANIFEST, Limits, open_feed
from hashguard.lists.rows import ListRow, entry_rows
from hashguard.signals.registry import default_registry
from hashguard.sources.feed import sync_feed
from hashguard.store.store import Store
from tests.helpers import import_text, serve, serve_files

RNG = np.random.default_rng(20260301)
HEADER = "signal_type,signal,id,category,severity,note,action,source_url\n"


def md5() -> str:
    return hashlib.md5(RNG.bytes(64)).hexdigest()


def pdq() -> str:
    return RNG.integers(0, 256, 32, dtype=np.uint8).tobytes().hex()


def make_list(n: int, prefix: str = "item") -> str:
    lines = [HEADER]
    for i in range(n):
        lines.append(
            f"md5,{md5()},{prefix}-{i},{'ABC'[i % 3]},{i % 5},,add,https://example.org/{i}\n"
        )
        if i % 4 == 0:  # some entries carry two signals
            lines.append(
                f"pdq,{pdq()},{prefix}-{i},{'ABC'[i % 3]},{i % 5},,add,https://example.org/{i}\n"
            )
    lines.append(f"sha1,{hashlib.sha1(RNG.bytes(8)).hexdigest()},,,,no id,,\n")
    return "".join(lines)


def contents(store: Store, bank: str) -> list[tuple[str, ...]]:
    return sorted(
        tuple(f"{k}={v}" for k, v in sorted(row.items())) for row in store.export_rows(bank)
    )


class Side:
    """A store with one bank; a subscriber's bank follows the feed through a ``feed`` source,
    synced by :func:`sync_feed`, the function the service and `hashguard sources sync` run."""

    def __init__(self, path: Path, bank: str = "hotline") -> None:
        self.store = Store(f"sqlite:///{path}.db")
        self.bank = bank
        self.store.create_bank(bank)
        self.source = "upstream"
        self.store.sources.add(self.source, "feed", bank, "file:///nowhere", {}, actor="test")

    def rows(self) -> list[dict[str, Any]]:
        return list(self.store.export_rows(self.bank))

    def contents(self) -> list[tuple[str, ...]]:
        return contents(self.store, self.bank)

    def checkpoint(self) -> Checkpoint:
        saved = self.store.sources.get(self.source).checkpoint
        return Checkpoint.from_json(saved) if saved else Checkpoint()

    def sync(
        self,
        url: str,
        keys: dict[str, Ed25519PublicKey],
        *,
        feed: str | None = None,
        headers: dict[str, str] | None = None,
        limits: Limits | None = None,
        now: datetime | None = None,
    ) -> list[str]:
        """Point the source at ``url`` with these settings and sync it; the kinds applied."""
        settings: dict[str, Any] = {
            "public_keys": [public_pem(k).decode() for k in keys.values()],
            "headers_env": {name: f"HG_TEST_HEADER_{i}" for i, name in enumerate(headers or {})},
        }
        if feed is not None:
            settings["feed"] = feed
        # the stored source (its checkpoint) with this call's location and settings
        source = replace(self.store.sources.get(self.source), url=url, settings=settings)
        os.environ.update({settings["headers_env"][n]: v for n, v in (headers or {}).items()})
        try:
            reports = sync_feed(self.store, source, default_registry(), limits=limits, now=now)
        finally:
            for variable in settings["headers_env"].values():
                os.environ.pop(variable, None)
        # each version applied is one import, audited with the file it came from
        synced = [r for r in self.store.audit.read() if r["action"] == "source.sync"]
        files = [r["detail"]["source"] for r in synced[len(synced) - len(reports) :]]
        return [Path(urllib.parse.urlparse(f).path).name.split("-")[0] for f in files]


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def keys(key: Ed25519PrivateKey) -> dict[str, Ed25519PublicKey]:
    return trusted_keys([key.public_key()])


@pytest.fixture
def publisher(tmp_path: Path) -> Iterator[Side]:
    side = Side(tmp_path / "publisher")
    yield side
    side.store.close()


@pytest.fixture
def subscriber(tmp_path: Path) -> Iterator[Side]:
    side = Side(tmp_path / "subscriber")
    yield side
    side.store.close()


def change(side: Side, text: str) -> None:
    import_text(side.store, side.bank, text)


def republish(side: Side, feed_dir: Path, key: Ed25519PrivateKey, **kw: Any) -> Any:
    return publish(feed_dir, side.rows(), key, feed="hotline", **kw)


# -- round trips ------------------------------------------------------------------------------


def test_snapshot_then_deltas_with_adds_updates_and_retracts(
    tmp_path: Path, publisher: Side, subscriber: Side, key: Ed25519PrivateKey, keys: Any
) -> None:
    feed_dir = tmp_path / "feed"
    change(publisher, make_list(40))
    first = republish(publisher, feed_dir, key)
    assert (first.version, first.changed, first.entries_added, first.delta) == (1, True, 41, None)
    assert {stat.S_IMODE(p.stat().st_mode) for p in feed_dir.glob("*.json*")} == {0o644}
    assert subscriber.sync(str(feed_dir), keys) == ["snapshot"]
    assert subscriber.contents() == publisher.contents()
    assert subscriber.checkpoint().version == 1

    # Version 2: new entries, a retraction, new metadata, an extra signal for an entry.
    change(
        publisher,
        make_list(5, prefix="new")
        + "".join(f",,item-{i},,,,retract,\n" for i in (1, 2, 3)).replace(HEADER, "")
        + f"md5,{md5()},item-5,C,9,updated,add,https://example.org/5\n"
        + f"pdq,{pdq()},item-6,A,1,,add,https://example.org/6\n",
    )
    second = republish(publisher, feed_dir, key)
    assert (second.version, second.entries_added, second.entries_retracted) == (2, 6, 3)
    assert second.entries_updated == 2 and second.snapshot is None and second.delta
    assert subscriber.sync(str(feed_dir), keys) == ["delta"]
    assert subscriber.contents() == publisher.contents()

    # Version 3: a retracted entry comes back; synced through a file:// URL to feed.json.
    change(publisher, HEADER + f"md5,{md5()},item-2,B,,back,add,\n")
    assert republish(publisher, feed_dir, key).version == 3
    assert subscriber.sync((feed_dir / MANIFEST).as_uri(), keys) == ["delta"]
    assert subscriber.contents() == publisher.contents()

    # Nothing new: nothing to do, and the bank's change log does not move.
    seq = subscriber.store.last_seq()
    assert subscriber.sync(str(feed_dir), keys) == []
    assert subscriber.store.last_seq() == seq


def test_unchanged_bank_only_renews_the_manifest(
    tmp_path: Path, publisher: Side, key: Ed25519PrivateKey, keys: Any
) -> None:
    feed_dir = tmp_path / "feed"
    change(publisher, make_list(3))
    republish(publisher, feed_dir, key)
    files = sorted(p.name for p in feed_dir.iterdir())
    later = datetime.now(UTC) + timedelta(days=5)
    report = republish(publisher, feed_dir, key, now=later)
    assert (report.version, report.changed) == (1, False)
    assert sorted(p.name for p in feed_dir.iterdir()) == files
    # A subscriber that syncs after the first manifest would have expired still gets it.
    with open_feed(str(feed_dir), keys, Checkpoint(), now=later + timedelta(days=6)) as sync:
        assert sync.manifest.version == 1 and len(sync.steps) == 1


def test_far_behind_subscriber_gets_the_snapshot_and_loses_other_entries(
    tmp_path: Path, publisher: Side, subscriber: Side, key: Ed25519PrivateKey, keys: Any
) -> None:
    feed_dir = tmp_path / "feed"
    change(publisher, make_list(10))
    republish(publisher, feed_dir, key, snapshot_every=2, keep_deltas=0)
    assert subscriber.sync(str(feed_dir), keys) == ["snapshot"]
    change(subscriber, HEADER + f"md5,{md5()},local-only,A,,,add,\n")
    for _ in range(4):  # versions 2-5; snapshots at 3 and 5; only deltas after 5 are kept
        change(publisher, make_list(2, prefix=f"v{_}"))
        republish(publisher, feed_dir, key, snapshot_every=2, keep_deltas=0)
    manifest = parse_manifest(json.loads((feed_dir / MANIFEST).read_bytes())["manifest"].encode())
    assert (manifest.version, manifest.snapshot.version, manifest.deltas) == (5, 5, ())
    # Files neither the last nor the previous manifest lists are gone.
    assert len(list(feed_dir.glob("*.jsonl"))) == 3  # snapshots 3 and 5, delta 4
    checkpoint = subscriber.checkpoint()
    with (
        open_feed(str(feed_dir), keys, checkpoint) as sync,
        pytest.raises(ValueError, match="needs the bank's current rows"),
    ):
        sync.steps[0].rows([])
    assert subscriber.sync(str(feed_dir), keys) == ["snapshot"]
    assert subscriber.contents() == publisher.contents()
    assert "local-only" not in str(subscriber.contents())


def test_a_crash_between_import_and_checkpoint_duplicates_nothing(
    tmp_path: Path, publisher: Side, subscriber: Side, key: Ed25519PrivateKey, keys: Any
) -> None:
    feed_dir = tmp_path / "feed"
    change(publisher, make_list(8))
    republish(publisher, feed_dir, key)
    subscriber.sync(str(feed_dir), keys)
    change(publisher, make_list(3, prefix="later"))
    republish(publisher, feed_dir, key)
    # Crash 1: in the middle of an import. The transaction rolls back: nothing lost.
    with open_feed(str(feed_dir), keys, subscriber.checkpoint()) as sync:
        (step,) = sync.steps
        errors: list[RowError] = []

        def dies(rows: Iterator[ListRow]) -> Iterator[ListRow]:
            yield next(rows)
            raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            subscriber.store.import_rows(subscriber.bank, dies(step.rows(errors)), errors, "x")
    assert len(subscriber.contents()) == 8 + 2 + 1
    # Crash 2: after the import committed, before the checkpoint was saved.
    with open_feed(str(feed_dir), keys, subscriber.checkpoint()) as sync:
        (step,) = sync.steps
        errors = []
        subscriber.store.import_rows(subscriber.bank, step.rows(errors), errors, step.source)
    seq = subscriber.store.last_seq()
    # The restart applies the same delta again: nothing changes, nothing is logged twice.
    assert subscriber.sync(str(feed_dir), keys) == ["delta"]
    assert subscriber.store.last_seq() == seq
    assert subscriber.contents() == publisher.contents()
    assert subscriber.checkpoint().version == 2


TOKEN = {"Authorization": "Bearer benign-test-token"}


def test_sync_over_http_with_credentials(
    tmp_path: Path, publisher: Side, subscriber: Side, key: Ed25519PrivateKey, keys: Any
) -> None:
    root = tmp_path / "www"

    with serve_files(root, TOKEN["Authorization"]) as base:
        url = f"{base}/feeds/hotline"
        change(publisher, make_list(12))
        republish(publisher, root / "feeds" / "hotline", key)
        with pytest.raises(FeedUnavailable, match="HTTP 401"):
            subscriber.sync(url, keys)
        assert subscriber.sync(url, keys, headers=TOKEN) == ["snapshot"]
        change(publisher, HEADER + ",,item-0,,,,retract,\n")
        republish(publisher, root / "feeds" / "hotline", key)
        assert subscriber.sync(url + "/", keys, headers=TOKEN) == ["delta"]
        assert subscriber.contents() == publisher.contents()
        # Damage served over HTTP is caught like damage on disk.
        delta = sorted(root.glob("feeds/hotline/delta-*"))[-1]
        delta.write_bytes(delta.read_bytes()[:-3])
        subscriber.store.sources.reset_checkpoint("upstream", actor="test")
        with pytest.raises(FeedRejected, match="truncated"):
            subscriber.sync(url, keys, headers=TOKEN, limits=Limits(timeout=5))


def test_credentials_do_not_follow_a_redirect_to_another_origin(keys: Any) -> None:
    seen: list[str | None] = []

    class Elsewhere(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.headers.get("Authorization"))
            self.send_error(404)

        def log_message(self, *args: Any) -> None:
            pass

    with serve(Elsewhere) as other:

        class Redirecting(Elsewhere):
            def do_GET(self) -> None:
                seen.append(self.headers.get("Authorization"))
                self.send_response(302)
                self.send_header("Location", f"{other}{self.path}")
                self.end_headers()

        with (
            serve(Redirecting) as base,
            pytest.raises(FeedUnavailable, match="HTTP 404"),
            open_feed(f"{base}/feed", keys, Checkpoint(), headers=TOKEN),
        ):
            pass
    assert seen == [TOKEN["Authorization"], None]


# -- what a subscriber refuses ----------------------------------------------------------------


@pytest.fixture
def two_versions(
    tmp_path: Path, publisher: Side, subscriber: Side, key: Ed25519PrivateKey, keys: Any
) -> Path:
    """A feed at version 2; the subscriber has applied version 1."""
    feed_dir = tmp_path / "feed"
    change(publisher, make_list(6))
    republish(publisher, feed_dir, key)
    subscriber.sync(str(feed_dir), keys)
    change(publisher, make_list(2, prefix="v2") + ",,item-0,,,,retract,\n")
    republish(publisher, feed_dir, key)
    return feed_dir


def envelope(feed_dir: Path) -> dict[str, Any]:
    return dict(json.loads((feed_dir / MANIFEST).read_bytes()))


def write_envelope(feed_dir: Path, doc: dict[str, Any]) -> None:
    (feed_dir / MANIFEST).write_text(json.dumps(doc))


def delta_file(feed_dir: Path) -> Path:
    return sorted(feed_dir.glob("delta-*"))[-1]


def tamper_manifest(feed_dir: Path) -> None:
    doc = envelope(feed_dir)
    doc["manifest"] = doc["manifest"].replace('"version": 2', '"version": 3', 1)
    write_envelope(feed_dir, doc)


def tamper_delta(feed_dir: Path) -> None:
    path = delta_file(feed_dir)
    data = bytearray(path.read_bytes())
    data[data.index(b"item-") + 5] ^= 1  # another id, same length
    path.write_bytes(bytes(data))


def truncate_delta(feed_dir: Path) -> None:
    path = delta_file(feed_dir)
    path.write_bytes(path.read_bytes()[:-10])


def other_key(feed_dir: Path) -> None:
    """Re-sign the (unchanged) manifest with a key the subscriber does not trust."""
    doc = envelope(feed_dir)
    (feed_dir / MANIFEST).write_bytes(seal(Ed25519PrivateKey.generate(), doc["manifest"].encode()))


def other_key_posing(feed_dir: Path) -> None:
    """A signature by another key, under the trusted key's id."""
    doc = envelope(feed_dir)
    forged = json.loads(seal(Ed25519PrivateKey.generate(), doc["manifest"].encode()))
    doc["signature"] = forged["signature"]
    write_envelope(feed_dir, doc)


def malformed_json(feed_dir: Path) -> None:
    (feed_dir / MANIFEST).write_bytes(b'{"format": "hashguard-feed/1", "key_id": ')


def duplicate_keys(feed_dir: Path) -> None:
    text = (feed_dir / MANIFEST).read_text()
    (feed_dir / MANIFEST).write_text(text.replace("{", '{"manifest": "{}",', 1))


@pytest.mark.parametrize(
    ("damage", "reason", "message"),
    [
        (tamper_manifest, "signature", "signature does not verify"),
        (tamper_delta, "digest", "does not match its SHA-256"),
        (truncate_delta, "size", "truncated"),
        (other_key, "unknown_key", "which is not trusted"),
        (other_key_posing, "signature", "altered, or not signed by the publisher"),
        (malformed_json, "malformed", "is malformed"),
        (duplicate_keys, "malformed", "appears twice"),
    ],
)
def test_damaged_or_forged_feeds_change_nothing(
    two_versions: Path, subscriber: Side, keys: Any, damage: Any, reason: str, message: str
) -> None:
    before, checkpoint = subscriber.contents(), subscriber.checkpoint()
    damage(two_versions)
    with pytest.raises(FeedRejected, match=message) as caught:
        subscriber.sync(str(two_versions), keys)
    assert caught.value.reason == reason and caught.value.exit_code == 8
    assert caught.value.message.endswith("nothing was applied")
    assert subscriber.contents() == before
    assert subscriber.checkpoint() == checkpoint


def test_a_replayed_older_manifest_is_refused(
    tmp_path: Path, publisher: Side, subscriber: Side, key: Ed25519PrivateKey, keys: Any
) -> None:
    feed_dir = tmp_path / "feed"
    change(publisher, make_list(4))
    republish(publisher, feed_dir, key)
    old = (feed_dir / MANIFEST).read_bytes()
    change(publisher, make_list(1, prefix="v2"))
    republish(publisher, feed_dir, key)
    subscriber.sync(str(feed_dir), keys)
    before = subscriber.contents()
    (feed_dir / MANIFEST).write_bytes(old)  # genuine, signed, unexpired, but old
    with pytest.raises(FeedRejected, match="version 1, older than version 2") as caught:
        subscriber.sync(str(feed_dir), keys)
    assert caught.value.reason == "rollback" and subscriber.contents() == before


def test_an_expired_manifest_is_refused(two_versions: Path, subscriber: Side, keys: Any) -> None:
    later = datetime.now(UTC) + timedelta(days=8)
    with pytest.raises(FeedRejected, match="expired at") as caught:
        subscriber.sync(str(two_versions), keys, now=later)
    assert caught.value.reason == "expired"


def test_another_feed_is_refused(two_versions: Path, subscriber: Side, keys: Any) -> None:
    with pytest.raises(FeedRejected, match="is feed 'hotline', not 'other'"):
        subscriber.sync(str(two_versions), keys, feed="other")


def test_oversized_files_are_refused_before_download(
    two_versions: Path, subscriber: Side, keys: Any
) -> None:
    with pytest.raises(FeedRejected, match="over the 10-byte limit"):
        subscriber.sync(str(two_versions), keys, limits=Limits(file_bytes=10))
    with pytest.raises(FeedRejected, match="over 100 bytes") as caught:
        subscriber.sync(str(two_versions), keys, limits=Limits(manifest_bytes=100))
    assert caught.value.reason == "too_large"


def test_a_signed_but_inconsistent_manifest_is_refused(
    two_versions: Path, subscriber: Side, key: Ed25519PrivateKey, keys: Any
) -> None:
    manifest = json.loads(envelope(two_versions)["manifest"])
    manifest["deltas"] = []  # nothing leads from snapshot 1 to version 2
    (two_versions / MANIFEST).write_bytes(seal(key, json.dumps(manifest).encode()))
    with pytest.raises(FeedRejected, match="no deltas lead from snapshot 1 to 2"):
        subscriber.sync(str(two_versions), keys)


def test_a_rewritten_history_is_refused(
    tmp_path: Path, publisher: Side, subscriber: Side, key: Ed25519PrivateKey, keys: Any
) -> None:
    feed_dir = tmp_path / "feed"
    change(publisher, make_list(3))
    republish(publisher, feed_dir, key)
    change(publisher, make_list(1, prefix="a"))
    republish(publisher, feed_dir, key)
    subscriber.sync(str(feed_dir), keys)
    # The publisher loses its directory and publishes versions 1 and 2 again, differently.
    for path in feed_dir.iterdir():
        path.unlink()
    republish(publisher, feed_dir, key)
    change(publisher, make_list(1, prefix="b"))
    republish(publisher, feed_dir, key)
    with pytest.raises(FeedRejected, match="rewrote its history") as caught:
        subscriber.sync(str(feed_dir), keys)
    assert caught.value.reason == "history"
    subscriber.store.sources.reset_checkpoint("upstream", actor="test")  # as the message says
    assert subscriber.sync(str(feed_dir), keys) == ["snapshot", "delta"]
    assert subscriber.contents() == publisher.contents()


def test_a_missing_feed_is_unavailable_not_rejected(tmp_path: Path, keys: Any) -> None:
    with (
        pytest.raises(FeedUnavailable, match="No such file"),
        open_feed(str(tmp_path / "nowhere"), keys, Checkpoint()),
    ):
        pass
    with (
        pytest.raises(InvalidValue, match="use https://"),
        open_feed("ftp://example.org/feed", keys, Checkpoint()),
    ):
        pass


# -- publishing and keys ----------------------------------------------------------------------


def test_the_publisher_refuses_to_build_on_a_damaged_directory(
    two_versions: Path, publisher: Side, key: Ed25519PrivateKey
) -> None:
    tamper_delta(two_versions)
    manifest = (two_versions / MANIFEST).read_bytes()
    change(publisher, make_list(1, prefix="v3"))
    with pytest.raises(FeedRejected, match="nothing was published") as caught:
        republish(publisher, two_versions, key)
    assert caught.value.reason == "digest"
    assert (two_versions / MANIFEST).read_bytes() == manifest
    assert not list(two_versions.glob(".tmp-*"))


def test_key_rotation(
    tmp_path: Path, publisher: Side, subscriber: Side, key: Ed25519PrivateKey, keys: Any
) -> None:
    feed_dir = tmp_path / "feed"
    change(publisher, make_list(3))
    republish(publisher, feed_dir, key)
    subscriber.sync(str(feed_dir), keys)
    new = Ed25519PrivateKey.generate()
    change(publisher, make_list(1, prefix="v2"))
    with pytest.raises(FeedRejected, match="not trusted"):
        republish(publisher, feed_dir, new)  # the old manifest's key must be vouched for
    republish(publisher, feed_dir, new, previous_keys=[key.public_key()])
    with pytest.raises(FeedRejected, match=f"signed by key {key_id(new.public_key())}"):
        subscriber.sync(str(feed_dir), keys)
    both = trusted_keys([key.public_key(), new.public_key()])
    assert subscriber.sync(str(feed_dir), both) == ["delta"]
    assert subscriber.contents() == publisher.contents()


def test_a_directory_holds_one_feed(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    publish(tmp_path, [], key, feed="one")
    with pytest.raises(InvalidValue, match="holds feed 'one', not 'two'"):
        publish(tmp_path, [], key, feed="two")


def test_rows_of_an_entry_must_be_consecutive(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    rows = [
        {"signal_type": "md5", "signal": md5(), "id": "a"},
        {"signal_type": "md5", "signal": md5(), "id": "b"},
        {"signal_type": "md5", "signal": md5(), "id": "a"},
    ]
    with pytest.raises(InvalidValue, match="'a' are not consecutive"):
        publish(tmp_path, rows, key, feed="x")
    assert not (tmp_path / MANIFEST).exists() and not list(tmp_path.glob("*.jsonl"))


def test_only_one_publisher_at_a_time(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    import fcntl

    with open(tmp_path / ".publish.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with pytest.raises(Conflict, match="another `feed publish`"):
            publish(tmp_path, [], key, feed="x")


def test_key_files(tmp_path: Path) -> None:
    private, public = tmp_path / "feed.key", tmp_path / "feed.pub"
    kid = generate_key(private, public)
    assert len(kid) == 16 and int(kid, 16) >= 0
    assert stat.S_IMODE(os.stat(private).st_mode) == 0o600
    loaded = load_private_key(private)
    assert key_id(loaded.public_key()) == kid == key_id(load_public_key(public))
    with pytest.raises(InvalidValue, match="exists already"):
        generate_key(private, tmp_path / "other.pub")
    with pytest.raises(InvalidValue, match="subscribers need the public"):
        load_public_key(private)
    with pytest.raises(InvalidValue, match="is not a PEM private key"):
        load_private_key(public)
    locked = tmp_path / "locked.key"
    generate_key(locked, tmp_path / "locked.pub", password=b"benign passphrase")
    with pytest.raises(InvalidValue, match="is encrypted: give its passphrase"):
        load_private_key(locked)
    assert load_private_key(locked, b"benign passphrase")
    raw = base64.b64decode(b"".join(public.read_bytes().splitlines()[1:-1]))
    assert hashlib.sha256(raw[-32:]).hexdigest()[:16] == kid  # raw key: the DER's last 32


def test_checkpoint_round_trip_and_a_damaged_one(subscriber: Side) -> None:
    cp = Checkpoint("hotline", 7, "delta", "ab" * 32)
    assert Checkpoint.from_json(cp.to_json()) == cp
    with subscriber.store.engine.begin() as conn:
        subscriber.store.sources.save_checkpoint(conn, "upstream", "{")
    with pytest.raises(ConfigError, match=r"checkpoint is unreadable.*sources reset upstream"):
        subscriber.sync("file:///nowhere", {})
    assert subscriber.store.sources.get("upstream").as_dict()["checkpoint"] == {"unreadable": "{"}
    reset = subscriber.store.sources.reset_checkpoint("upstream", actor="curator")
    assert reset.checkpoint is None and subscriber.checkpoint() == Checkpoint()
    (record,) = [r for r in subscriber.store.audit.read() if r["action"] == "source.reset"]
    assert record["actor"] == "curator" and record["target"] == "upstream"


def test_vpdq_entries_travel_whole_through_a_feed_and_an_export(
    tmp_path: Path, publisher: Side, subscriber: Side, key: Ed25519PrivateKey, keys: Any
) -> None:
    """A video's vPDQ (hundreds of frames, tens of kB) publishes, syncs, exports to CSV and
    JSON Lines and reads back unchanged."""
    from hashguard.lists import formats
    from tests.conftest import TESTDATA

    registry = default_registry()
    frames = (TESTDATA / "vpdq" / "sample-hashes" / "chair-19-sd-bar.txt").read_text()
    value = registry.parse("vpdq", frames).value
    assert len(value) > 40_000
    rows, errors = entry_rows("clip", [("vpdq", value, None), ("md5", md5(), None)], {}, registry)
    assert not errors
    publisher.store.add_entry(publisher.bank, rows)
    republish(publisher, tmp_path / "feed", key)
    assert subscriber.sync(str(tmp_path / "feed"), keys) == ["snapshot"]
    assert subscriber.contents() == publisher.contents()
    assert any(f"signal={value}" in row for row in subscriber.contents())
    for name in ("csv", "jsonl"):
        fmt = formats.get(name)
        out = io.StringIO()
        fmt.write(publisher.rows, out)
        bad: list[Any] = []
        lines = io.BytesIO(out.getvalue().encode()).readlines()
        read = list(fmt.read(iter(lines), registry, bad))
        assert not bad and {r.value for r in read if r.signal_type == "vpdq"} == {value}, name
