"""Feeds: a bank's list published as a signed, versioned snapshot plus deltas, and synced
by subscribers. See docs/feeds.md.

- :mod:`~hashguard.feeds.signing`: Ed25519 key pairs and key ids;
- :mod:`~hashguard.feeds.manifest`: the signed manifest, its checks, checkpoints;
- :mod:`~hashguard.feeds.publish`: writing the next version of a feed;
- :mod:`~hashguard.feeds.sync`: fetching, verifying and applying a feed.
"""
