"""Ground-truth trajectories for scenarios: a random swarm for benchmarks, behaviours for drills.

Truth is handed around as `simulators.scoring.Snapshot` (ids plus (n, 3) position and velocity
arrays in camp ENU metres) and written to recordings as `simulators.scoring.TruthFrame`; the
schema lives with the scorer because drills score real tracks against GPS truth with the same code.

- `benchmark`: the benchmarks' truth, a random swarm (`NcvSwarm`) and scripted `WaypointPath`s.
- `behaviours`: drill behaviours (`Straight` ingress or pass, `Weave`, `Orbit`, `Racetrack`,
  `Waypoints`, `SampledPath`) behind one interface, `Target`.
- `birds`: flocks of birds (`bird_flock`), drawn once as `SampledPath`s.
- `target_set`: `TargetSet` evaluates a scenario's targets together into `TargetStates`.

Import from the modules; this package re-exports nothing.
"""
