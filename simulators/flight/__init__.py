"""Flying a scenario's sensors (was `simulators.run`), about to be split by job."""

from simulators.flight.realtime import (
    RunStats,
    ScanEvent,
    SimSensor,
    Simulation,
    add_command,
    make_sensors,
    record,
    run_realtime,
    simulate,
    truth_path,
)

__all__ = [
    "RunStats",
    "ScanEvent",
    "SimSensor",
    "Simulation",
    "add_command",
    "make_sensors",
    "record",
    "run_realtime",
    "simulate",
    "truth_path",
]
