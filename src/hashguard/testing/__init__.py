"""Test kits every signal type and index runs through, built-ins and plugins alike.

    from hashguard.testing import check_index, check_signal_type

    def test_my_type(tmp_path):
        check_signal_type(MyType(), invalid=["zz"], media=[b"some content"])
        check_index(MyType(), tmp_path)

Each raises AssertionError naming what failed. See docs/architecture.md#test-kits.
"""

from hashguard.testing.index_kit import check_index
from hashguard.testing.signal_kit import check_signal_type

__all__ = ["check_index", "check_signal_type"]
