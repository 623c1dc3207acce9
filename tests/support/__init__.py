"""Test harnesses shared by the test modules and the benchmarks, imported as `support.<name>`.

- `broker`: real Mosquitto brokers on free loopback ports.
- `ingest_stub`: the core's end of the ZeroMQ ingest link, for sensor-side tests.
- `live`: an in-process core with a real broker, and a listener on its MQTT output.
- `sky`: a scripted sky of tracks for the alert lifecycle, without a tracker.
- `truth_match`: which track is which simulated object, for per-object acceptance tests.
"""
