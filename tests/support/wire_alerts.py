"""Wire alerts for tests: an alert transition as the lifecycle would journal it."""

from __future__ import annotations

from cuas import wire
from cuas.fusion.alerts import Transition


def transition(
    alert_id: str,
    state: str,
    t: float,
    level: str = "warning",
    t_raised: float | None = None,
    track_id: int = 7,
) -> Transition:
    """A transition of alert `alert_id` on track `track_id` (a drone 900 m east, inbound), to
    `state` at `t`; raised at `t_raised` (default `t`)."""
    a = wire.Alert(
        v=1,
        alert_id=alert_id,
        track_id=track_id,
        level=level,  # type: ignore[arg-type]
        state=state,  # type: ignore[arg-type]
        zone="approach",
        reason="Drone (track 7) 900 m E of camp centre, inbound at 20 m/s.",
        t_raised=t if t_raised is None else t_raised,
        t=t,
        lat=8.65,
        lon=24.51,
        alt_m=700.0,
        eta_s=20.0,
        acknowledged_by=None,
    )
    return Transition(a, "track")
