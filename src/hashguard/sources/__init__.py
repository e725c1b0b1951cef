"""Keeping banks in step with upstream lists: hashguard feeds and python-threatexchange's
exchanges (NCMEC, StopNCII, Meta ThreatExchange, a local file), checkpointed so that a crash
mid-sync loses nothing and repeats nothing."""
