import base64

import pytest

from hashguard.errors import InvalidSignal, UnknownSignalType
from hashguard.signals import HexDigestType, Registry, default_registry
from hashguard.signals.pdq import hamming

MD5 = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def registry() -> Registry:
    return default_registry()


def test_builtin_types_registered(registry: Registry) -> None:
    assert registry.names() == [
        "keyword", "md5", "pdq", "photodna", "sha1", "sha256", "url", "url_sha256", "vpdq",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("type_name", "raw", "canonical"),
    [
        ("md5", " 0123456789ABCDEF0123456789ABCDEF ", MD5),
        ("SHA1", "a" * 40, "a" * 40),
        ("sha256", "F" * 64, "f" * 64),
        ("pdq", "D8F8" + "0" * 60, "d8f8" + "0" * 60),
    ],
)
def test_parse_canonicalises(registry: Registry, type_name: str, raw: str, canonical: str) -> None:
    signal = registry.parse(type_name, raw)
    assert signal.value == canonical
    assert signal.type == type_name.lower()


@pytest.mark.parametrize(
    ("type_name", "raw", "message"),
    [
        ("md5", "abc", "32 hex digits, got 3"),
        ("md5", "g" * 32, "hexadecimal"),
        ("md5", "0123456789abcdef0123456789ab  cd", "hexadecimal"),  # 15 bytes, spaces
        ("pdq", "0" * 63, "64 hex digits"),
        ("sha256", "", "64 hex digits, got 0"),
        ("photodna", "00" * 143, "144 bytes"),
        ("photodna", ",".join(["1"] * 143), "144 comma-separated numbers, got 143"),
        ("photodna", ",".join(["300"] * 144), "between 0 and 255"),
    ],
)
def test_parse_rejects_bad_values(
    registry: Registry, type_name: str, raw: str, message: str
) -> None:
    with pytest.raises(InvalidSignal, match=message):
        registry.parse(type_name, raw)


def test_unknown_type_names_the_known_ones(registry: Registry) -> None:
    with pytest.raises(
        UnknownSignalType, match=r"unknown signal type 'phash' \(known: keyword, md5"
    ):
        registry.parse("phash", "00")


def test_photodna_accepts_hex_base64_and_decimal(registry: Registry) -> None:
    data = bytes(range(144))
    forms = [data.hex(), base64.b64encode(data).decode(), ",".join(str(b) for b in data)]
    assert {registry.parse("photodna", f).value for f in forms} == {data.hex()}


def test_a_plugin_registers_like_a_builtin(registry: Registry) -> None:
    class Tlsh(HexDigestType):
        name = "tlsh_test"
        nbytes = 35

    registry.register(Tlsh())
    assert registry.parse("tlsh_test", "ab" * 35).value == "ab" * 35
    with pytest.raises(ValueError, match="already registered"):
        registry.register(Tlsh())


def test_hamming() -> None:
    a = bytes(32)
    b = bytes([0xFF]) + bytes(30) + bytes([0x01])
    assert hamming(a, b) == 9
    assert hamming(b, b) == 0
