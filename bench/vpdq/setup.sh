#!/usr/bin/env bash
# Build Meta's vpdq 0.2.5 (video PDQ, PyPI sdist only: no wheel for
# CPython 3.11 / x86_64) into its own venv, for bench/vpdq/peer.py.
#
#   bash bench/vpdq/setup.sh [VENV]      # VENV defaults to /tmp/vpdqenv
#
# Needs root for apt-get (Debian 12). The sdist is built by scikit-build-core
# + Cython (pulled by pip into an isolated build env) with CMake and g++,
# and links FFmpeg's libav* through pkg-config (libswresample included).
# Idempotent: does nothing when VENV already imports vpdq 0.2.5.
set -euo pipefail

VENV="${1:-/tmp/vpdqenv}"
VERSION=0.2.5
LIBS="libavdevice libavfilter libavformat libavcodec libswresample libswscale libavutil"

if [ -x "$VENV/bin/python" ] &&
   "$VENV/bin/python" -c "import importlib.metadata as m, vpdq; assert m.version('vpdq') == '$VERSION'" 2>/dev/null; then
    echo "vpdq $VERSION already in $VENV"
    exit 0
fi

if ! { command -v pkg-config >/dev/null && pkg-config --exists $LIBS &&
       command -v cmake >/dev/null && command -v g++ >/dev/null; }; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends \
        libavcodec-dev libavformat-dev libavutil-dev libswscale-dev \
        libavdevice-dev libavfilter-dev libswresample-dev \
        pkg-config cmake g++ make
fi

[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --no-cache-dir "vpdq==$VERSION"
"$VENV/bin/python" -c "import vpdq; print('vpdq', '$VERSION', 'built:', vpdq.__file__)"
