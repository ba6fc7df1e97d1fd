"""Issue 29's probe, case by case (scripts/fault_probe.py): every bad input or fault
gets a clear message naming the problem (exit 2 / InputError), every valid variant
runs, and nothing of the user's is lost. A case failing here names its verdict
(silent, unclear, crash, loss) and the engine's last line."""

from __future__ import annotations

import pytest

from .test_scripts import load

probe = load("fault_probe")


@pytest.mark.parametrize("case", [pytest.param(c, marks=pytest.mark.slow) if c.slow else c
                                  for c in probe.CASES], ids=[c.name for c in probe.CASES])
def test_probe_case(case, tmp_path):
    result = probe.run_case(case, tmp_path)
    if result.verdict == "skipped":
        pytest.skip(result.detail)
    last = result.message.strip().splitlines()[-1:] if result.message else []
    assert result.verdict == "clear", f"{result.verdict}: {result.detail} {last}"
