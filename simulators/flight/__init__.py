"""Flying a scenario's simulated sensors: as fast as possible into a recording, or in real time.

- `sensors`: the sensors of a run (`make_sensors`), each with its own period, phase and
  random stream.
- `stats`: what a run did (`RunStats`).
- `recording`: the fast flight into memory and a recording file with its truth sidecar.
- `realtime`: the live flight over ZeroMQ to the core, scan by scan on the wall clock.

The command line is `simulators.simulate_command` (`cuas simulate`). Import from the
modules; this package re-exports nothing.
"""
