"""Persistence: SQLAlchemy tables, Alembic migrations and the Store."""

from hashguard.store.store import Store, default_db_url

__all__ = ["Store", "default_db_url"]
