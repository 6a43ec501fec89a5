"""A streamed run gives the memory its pieces freed back to the system as it goes
(engine.round.scoring._give_back): a national run's peak no longer grows with the blocks glibc
kept free beneath those still held."""
import ctypes
import sys

import pytest

from engine.round import scoring


def _resident() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * 4096


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_freed_blocks_beneath_held_ones_are_given_back():
    try:
        ctypes.CDLL(None).malloc_trim
    except AttributeError:
        pytest.skip("no malloc_trim in this C library")
    blocks = [bytes(48 * 1024) for _ in range(600)]  # ~29 MB of blocks glibc serves from its heap
    held = bytearray(48 * 1024)  # above them: the heap cannot shrink from its top
    del blocks
    before = _resident()
    scoring._give_back()
    assert before - _resident() > 16 * 1024 * 1024
    del held


def test_giving_back_twice_is_harmless():
    scoring._give_back()
    scoring._give_back()
