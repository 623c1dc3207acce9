"""Every topic name of DESIGN.md in one place: ZeroMQ ingest, the track stream, recordings, MQTT.

- ZeroMQ ingest (sensors -> core): `report.<sensor_id>` and `status.<sensor_id>`.
- ZeroMQ track stream (core -> integrators): `tracks` (every cycle) and `track_updates` (the
  tracks each scan updated, at once). Not `tracks.<something>`: a ZeroMQ subscription is a
  prefix, so an integrator subscribed to `tracks` would take updates for whole cycles.
- Recordings of the core's output (`cuas replay --out`, `cuas run --record` of outputs):
  `tracks`, `alert`, `sensor` (and `track_updates` with `cuas replay --updates`); recordings
  of sensor traffic keep the ingest topics.
- MQTT (core -> operations centres): `Topics`, under the camp's prefix.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

REPORT = "report"
STATUS = "status"
SensorFamily = Literal["report", "status"]

TRACK_STREAM = "tracks"
TRACK_UPDATES_STREAM = "track_updates"

RECORDED_TRACKS = "tracks"  # one track cycle
RECORDED_ALERT = "alert"  # one alert transition
RECORDED_SENSOR = "sensor"  # one sensor health message
RECORDED_TRACK_UPDATES = "track_updates"  # the tracks scans just updated (`--updates`)


def report_topic(sensor_id: str) -> str:
    """The ingest topic of a sensor's reports."""
    return f"{REPORT}.{sensor_id}"


def status_topic(sensor_id: str) -> str:
    """The ingest topic of a sensor's heartbeats."""
    return f"{STATUS}.{sensor_id}"


def is_report(topic: str) -> bool:
    return topic.startswith(REPORT + ".")


def is_status(topic: str) -> bool:
    return topic.startswith(STATUS + ".")


def sensor_topic_parts(topic: str) -> tuple[str, str]:
    """(`report` | `status` | anything else, sensor id or "") of an ingest topic."""
    family, _, sensor_id = topic.partition(".")
    return family, sensor_id


@dataclass(frozen=True)
class Topics:
    """The topics of one camp under its prefix (default `cuas/<camp_id>`)."""

    prefix: str

    @property
    def status(self) -> str:
        return f"{self.prefix}/status"

    @property
    def tracks(self) -> str:
        return f"{self.prefix}/tracks"

    @property
    def track_updates(self) -> str:
        """The tracks each scan updated, as soon as it is fused (QoS 0, not retained)."""
        return f"{self.prefix}/tracks/updates"

    @property
    def alert_events(self) -> str:
        return f"{self.prefix}/events/alerts"

    def alert(self, alert_id: str) -> str:
        return f"{self.prefix}/alerts/{alert_id}"

    def ack(self, alert_id: str) -> str:
        return f"{self.prefix}/alerts/{alert_id}/ack"

    @property
    def acks(self) -> str:
        """Wildcard for every operator acknowledgement."""
        return f"{self.prefix}/alerts/+/ack"

    @property
    def alerts(self) -> str:
        """Wildcard for the retained alert states (one level: not the acks below them)."""
        return f"{self.prefix}/alerts/+"

    def sensor(self, sensor_id: str) -> str:
        return f"{self.prefix}/sensors/{sensor_id}"

    @property
    def sensors(self) -> str:
        return f"{self.prefix}/sensors/+"

    @property
    def everything(self) -> str:
        return f"{self.prefix}/#"

    def alert_id_of_ack(self, topic: str) -> str | None:
        """The alert id in `<prefix>/alerts/<id>/ack`, or None for any other topic."""
        head = f"{self.prefix}/alerts/"
        if topic.startswith(head) and topic.endswith("/ack"):
            alert_id = topic[len(head) : -len("/ack")]
            return alert_id if alert_id and "/" not in alert_id else None
        return None
