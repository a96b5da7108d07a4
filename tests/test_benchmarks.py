"""Every benchmark in bench/ runs at its smoke size, so none rots: a script that fails here fails the suite.

The figures are the benchmarks' business (README "Benchmarks"); this only holds that each runs to its end.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted(path.name for path in (ROOT / "bench").glob("[!_]*.py"))  # _data.py is shared data
RUNS = [[name, "--smoke"] for name in SCRIPTS] + [["table_bench.py", "--smoke", "--postgres"]]


def test_every_benchmark_is_run_here():
    assert {"dup_bench.py", "import_bench.py", "load_bench.py", "sync_bench.py", "table_bench.py"} <= set(SCRIPTS)


@pytest.mark.parametrize("command", RUNS, ids=" ".join)
def test_benchmark_runs_at_its_smoke_size(command):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("COCREATE_CONFIG", None), env.pop("COCREATE_HOME", None), env.pop("COCREATE_DATABASE_URL", None)
    done = subprocess.run([sys.executable, f"bench/{command[0]}", *command[1:]], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert done.stdout.strip(), "a benchmark prints its figures"
