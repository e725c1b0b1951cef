"""Banks, entries and the change log: the domain model, no I/O."""

from hashguard.banks.model import Bank, Change, Entry, ImportReport, validate_bank_name

__all__ = ["Bank", "Change", "Entry", "ImportReport", "validate_bank_name"]
