"""Shared helpers for the reliability tests."""

from __future__ import annotations

import os


def scale(light: int, heavy: int) -> int:
    """`heavy` when EXTRAMILE_TEST_HEAVY=1, else `light` (keeps the default suite fast)."""
    return heavy if os.environ.get("EXTRAMILE_TEST_HEAVY") == "1" else light
