"""Signal indexes: the interface (base.py); the exact, Hamming and keyword indexes; snapshots;
the live set that follows the change log."""
