"""MQTT topic names of DESIGN.md, in one place for the service, `cuas tail` and the tests."""

from __future__ import annotations

from dataclasses import dataclass


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
