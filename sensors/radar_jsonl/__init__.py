"""Adapter for radars that export plots as line-delimited JSON (JSONL) over UDP or TCP.

Many small drone-detection radars stream one JSON object per detected plot, one per line:

    {"time": 1764000000.25, "range": 1523.4, "azimuth": -12.5, "elevation": 3.1,
     "radial_velocity": -7.2, "rcs": -18.0, "track_id": 17, "scan": 1842}

This adapter reads such a stream (listening on a UDP port, listening on a TCP port for one
or more connections, or connecting to the radar as a TCP client and reconnecting with
backoff), turns each plot into a `RadarDetection`, groups a scan's plots into one wire
report and publishes it through `SensorPublisher`.

Accepted fields (the first name present in a line wins; `null` counts as absent):

| field           | default names                                    | unit, convention            |
|-----------------|--------------------------------------------------|-----------------------------|
| time            | `time`, `t`, `timestamp`                         | UNIX epoch s, UTC; required |
| range           | `range`, `range_m`, `rng`                        | m, > 0; required            |
| azimuth         | `azimuth`, `az`, `bearing`                       | deg, see below; required    |
| elevation       | `elevation`, `el`, `elev`                        | deg up; required            |
| radial_velocity | `radial_velocity`, `vr`, `doppler`, `range_rate` | m/s, + receding             |
| rcs             | `rcs`, `rcs_dbsm`                                | dBsm                        |
| snr             | `snr`, `snr_db`                                  | dB                          |
| scan            | `scan`, `scan_id`, `frame`                       | integer or string           |

`azimuth` is relative to the radar's boresight, positive clockwise, in -360..360; elevation
is in -90..90. A radar that reports approaching targets with a positive velocity needs
`--invert-radial-velocity` (the wire's `range_rate_mps` is positive when range grows). The
wire has no SNR field: `snr` only serves the optional `--min-snr` filter.

Another vendor's names are configured per field, replacing the defaults for that field:
`--field azimuth=brg,bearing_rel --field radial_velocity=vel`. Other fields (`track_id`, a
vendor's own extras) are ignored: the core tracks plots itself.

The azimuth is converted to the true-north azimuth of the wire as
`(boresight_az_deg + azimuth) mod 360`, in [0, 360), with the sensor's `boresight_az_deg`
from the camp configuration. The elevation is passed through (the configuration has no
boresight tilt).

Plots are grouped into one report per scan: by the `scan` field when present, otherwise by
identical `time`. A scan is published when a plot of another scan arrives, when no plot has
arrived for `scan_timeout_s` (0.2 s), when it reaches `max_plots_per_report`, or when its TCP
connection closes. The report's `t` is the earliest plot time; a plot measured later keeps
its own `t`. A bad line (not JSON, missing field, wrong type, NaN or infinity, out of range,
too long) is counted per reason and logged at most once per reason per interval; it never
stops the adapter. The heartbeat says `degraded` while no valid plot has arrived for
`stale_after_s` (a radar that is silent when the sky is empty will show this too) and, in
client mode, while the radar is not connected.

    python -m sensors.radar_jsonl --config CAMP.toml --sensor radar-1 --udp 0.0.0.0:4001
    cuas adapter-radar-jsonl --config CAMP.toml --sensor radar-1 --tcp-connect 10.0.0.7:4001
"""

# This docstring is the user's guide (`python -m sensors.radar_jsonl --help` shows it). The
# modules: `plots` (a line → a validated plot → wire detections), `scans` (plots grouped into
# scans), `adapter` (lines from the sockets of `sensors.transport` → one report per scan) and
# `command` (`cuas adapter-radar-jsonl`). Import from them; this package re-exports nothing.
