"""Every compiled kernel module loaded at once (or, on a machine's first run, compiled):
`warm_up` is called when a tracker is built, so that its first scan does not pay it.

The kernels live in `kernels.py` (the shared helpers and most loops) and in one module per
stage beside it (`sight_kernels`, `pair_kernels`, ...), each importing `kernels`; loading
them all here, rather than from `kernels.warm_up`, keeps the imports one way.
"""

from __future__ import annotations

from cuas.tracking import (
    class_kernels,
    kernels,
    measurement_kernels,
    pair_kernels,
    radar_kernels,
    sight_kernels,
    update_kernels,
)


def warm_up() -> None:
    """Load every kernel module's compiled kernels now; a no-op where numba is not used."""
    for module in (
        kernels,
        sight_kernels,
        pair_kernels,
        class_kernels,
        radar_kernels,
        update_kernels,
        measurement_kernels,
    ):
        module.warm_up()
