"""Held items, decisions on them, appeals, and content kept for review (docs/console.md)."""
