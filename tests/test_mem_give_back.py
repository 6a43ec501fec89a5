"""A streamed run gives the memory its pieces freed back to the system as it goes
(engine.round.scoring._give_back): a national run's peak no longer grows with the blocks glibc
kept free beneath those still held."""
import ctypes
import subprocess
import sys

import pytest

from engine.round import scoring

# in a process of its own: what glibc holds free in a long-lived test process is anyone's guess
_FREED_THEN_GIVEN_BACK = """
from engine.round import scoring

def resident():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * 4096

blocks = [bytes(48 * 1024) for _ in range(600)]  # ~29 MB of blocks glibc serves from its heap
held = bytearray(48 * 1024)  # above them: the heap cannot shrink from its top
del blocks
before = resident()
scoring._give_back()
print(before - resident())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_freed_blocks_beneath_held_ones_are_given_back():
    try:
        ctypes.CDLL(None).malloc_trim
    except AttributeError:
        pytest.skip("no malloc_trim in this C library")
    out = subprocess.run([sys.executable, "-c", _FREED_THEN_GIVEN_BACK], capture_output=True, text=True,
                         check=True, cwd=scoring.__file__.rsplit("/engine/", 1)[0])
    assert int(out.stdout) > 16 * 1024 * 1024


def test_giving_back_twice_is_harmless():
    scoring._give_back()
    scoring._give_back()
