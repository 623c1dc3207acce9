"""The drill library: one TOML scenario file per drill in this directory (`*.toml`).

`simulators.scenario_file` loads them (`library()`, `load_scenario`). This package also
re-exports `simulators.benchmark_scenarios` under its old name, `simulators.scenarios`, so code
written before the drill library moved in here keeps importing; new code should import
`simulators.benchmark_scenarios`.
"""

from __future__ import annotations

from pathlib import Path

from simulators.benchmark_scenarios import *  # noqa: F403  (the old module's names)
from simulators.benchmark_scenarios import (  # noqa: F401  (named ones tests import)
    HEARTBEAT_PERIOD_S,
    RECEIVE_DELAY_S,
    SAMPLE_CONFIG,
    SAMPLE_DIR,
    T0,
    main,
)

LIBRARY_DIR = Path(__file__).resolve().parent
