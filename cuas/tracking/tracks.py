"""The track table: every live track as one row of a set of parallel numpy arrays.

Rows are kept dense (deletion compacts), so each stage works on `[:n]` slices and the memory
of a track is a few hundred bytes of state, not an object graph.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import NDArray

from cuas.tracking import kernels, update_kernels
from cuas.tracking.imm import combine
from cuas.tracking.motion import STATE_DIM
from cuas.tracking.scan import CLASSES

N_CLASSES = len(CLASSES)

TENTATIVE = 0
CONFIRMED = 1
COASTING = 2
STATUS_NAMES = ("tentative", "confirmed", "coasting")


@dataclass(frozen=True)
class TrackRows:
    """A copy of some rows of the track table: every column, as arrays of the same length."""

    x: NDArray[np.float64]
    P: NDArray[np.float64]
    track_id: NDArray[np.int64]
    status: NDArray[np.int8]
    history: NDArray[np.uint32]
    t_birth: NDArray[np.float64]
    t_update: NDArray[np.float64]
    last_hit: NDArray[np.float64]
    last_named: NDArray[np.float64]
    t_crossed: NDArray[np.float64]
    t_vouched: NDArray[np.float64]
    class_logp: NDArray[np.float64]
    class_bare: NDArray[np.float64]
    uas_id: NDArray[np.object_]
    emitter_id: NDArray[np.object_]
    friendly: NDArray[np.bool_]
    unseen: NDArray[np.int16]
    shadowed: NDArray[np.bool_]
    identity_echo: NDArray[np.int16]
    emitter_misfit: NDArray[np.float64]
    emitter_lean: NDArray[np.float32]
    radar_lean: NDArray[np.float32]
    emitter_odds: NDArray[np.float64]
    emitter_odds_t: NDArray[np.float64]
    camera_lean: NDArray[np.float32]
    cameras_barred_until: NDArray[np.float64]
    t_camera_line: NDArray[np.float64]
    site_drone_odds: NDArray[np.float32]
    barred_emitter: NDArray[np.object_]
    bar_refused: NDArray[np.bool_]
    mode_p: NDArray[np.float64]
    mode_x: NDArray[np.float64]
    mode_P: NDArray[np.float64]
    t_mix: NDArray[np.float64]

    def __len__(self) -> int:
        return self.track_id.shape[0]

    @classmethod
    def concat(cls, parts: list[TrackRows]) -> TrackRows:
        names = [f.name for f in fields(cls)]
        return cls(**{n: np.concatenate([getattr(p, n) for p in parts]) for n in names})


BARRED_SLOTS = 4  # emitter ids a track may be barred from at once (`barred_emitter`)
GROWTH = 1.25  # capacity factor when full: little slack per live track, amortised copies
MIN_CAPACITY = 64  # a table never shrinks below this many rows


class TrackTable:
    """Parallel arrays of track state; grows by a quarter, never shrinks below its peak."""

    _fields = (
        "x",
        "P",
        "track_id",
        "status",
        "history",
        "t_birth",
        "t_update",
        "last_hit",
        "last_named",
        "t_crossed",
        "t_vouched",
        "class_logp",
        "class_bare",
        "uas_id",
        "emitter_id",
        "friendly",
        "unseen",
        "shadowed",
        "identity_echo",
        "emitter_misfit",
        "emitter_lean",
        "radar_lean",
        "emitter_odds",
        "emitter_odds_t",
        "camera_lean",
        "cameras_barred_until",
        "t_camera_line",
        "site_drone_odds",
        "barred_emitter",
        "bar_refused",
        "mode_p",
        "mode_x",
        "mode_P",
        "t_mix",
    )

    def __init__(
        self,
        n_sensors: int,
        capacity: int = MIN_CAPACITY,
        mode_prior: NDArray[np.float64] | None = None,
    ) -> None:
        self.n = 0
        self.n_sensors = n_sensors
        self.mode_prior = np.ones(1) if mode_prior is None else np.asarray(mode_prior, float)
        self.next_id = 1
        self._allocate(capacity)
        self.none = self.rows(slice(0, 0))  # no rows (shared: there is nothing to write)

    def _allocate(self, capacity: int) -> None:
        self.capacity = capacity
        self.x = np.zeros((capacity, STATE_DIM))
        self.P = np.zeros((capacity, STATE_DIM, STATE_DIM))
        self.track_id = np.zeros(capacity, dtype=np.int64)
        self.status = np.zeros(capacity, dtype=np.int8)
        # Bit history of update opportunities, newest in bit 0 (1 = updated): M-of-N logic.
        self.history = np.zeros(capacity, dtype=np.uint32)
        self.t_birth = np.zeros(capacity)
        self.t_update = np.zeros(capacity)
        # Measurement time of the last update by each sensor (-inf: never), or by a direction
        # finder's bearing that named the track's emitter in its gate but could not move it
        # (`angle_screening.cannot_tell_apart`): the finder heard it.
        self.last_hit = np.full((capacity, self.n_sensors), -np.inf)
        # ... leaving out a finder's bearings whose labels name no emitter: such a bearing (a
        # spurious one, of no known protocol) is no transmitter's, and the lifecycle does not
        # count it as a site (`LifecycleRules`).
        self.last_named = np.full((capacity, self.n_sensors), -np.inf)
        # Since when two or more sensors have hit it within the sensor memory, without a
        # break (NaN: not now): lines of sight have kept crossing on it that long (lifecycle).
        self.t_crossed = np.full(capacity, np.nan)
        # When its place was first vouched for (NaN: never): by a sensor that places a
        # target alone (radar, Remote ID), or by more than two lines of sight at once, or by
        # two finders that name one emitter and cross at it (`lifecycle.vouch`). Until then
        # it is where two lines cross, and lines of two objects cross too: it is never
        # critical, and its alert gives the line it is on, not a place (threat.py,
        # alerts.py). A bearings-only track that a camera's run places afresh is back to NaN:
        # that place is a new crossing (`Tracker._refit_passive`).
        self.t_vouched = np.full(capacity, np.nan)
        # What the track is: log-probabilities over CLASSES (classification keeps them).
        self.class_logp = np.full((capacity, N_CLASSES), -np.log(N_CLASSES))
        # ... and, while RF bearings naming an emitter have updated it, what they would be
        # without those bearings' labels (NaN: none has): if the emitter proves to be
        # elsewhere, the track takes these back (classification.py).
        self.class_bare = np.full((capacity, N_CLASSES), np.nan)
        # Who it is: Remote ID serial and RF emitter id once heard, and whether friendly.
        self.uas_id = np.full(capacity, None, dtype=object)
        self.emitter_id = np.full(capacity, None, dtype=object)
        self.friendly = np.zeros(capacity, dtype=bool)
        # Negative information: scans of a localising sensor (radar) that covered the track
        # and did not see it, since the last one that did. A track made by cameras or
        # direction finders that a radar keeps not seeing is a ghost of crossing lines.
        self.unseen = np.zeros(capacity, dtype=np.int16)
        # ... and whether, at the radar's last look, a plot inside the gate of a track no radar
        # placed went to a track a radar did: what the radar sees there is another track's.
        self.shadowed = np.zeros(capacity, dtype=bool)
        # Consecutive Remote ID reports, each given to another track by the serial it holds,
        # that also fitted this unidentified one: a second track of that same drone.
        self.identity_echo = np.zeros(capacity, dtype=np.int16)
        # Whether the bearings naming the track's emitter id fit it: a running share of their
        # misfit (from finders that cover it; graded by distance, see the tracker's
        # `EmitterIds.check`), and the emitter ids taken from it (or refused it) for not fitting,
        # whose bearings it may no longer take: the last `BARRED_SLOTS`, newest first, None
        # for an empty slot (with one slot, a refused claim on another emitter lifted the bar
        # on the first: 15 times on random camps 0-29, 4 of them the hidden drone's).
        self.emitter_misfit = np.zeros(capacity)
        # Per finder, a running mean of those bearings' signed, normalised residuals: bearings
        # that always pass the track on one side lean, however well each fits alone.
        self.emitter_lean = np.zeros((capacity, self.n_sensors), dtype=np.float32)
        # ... and, while it holds an emitter id, the running mean of the radar plots' signed,
        # normalised azimuth residuals: bearings that drag a radar track off its target leave
        # the radar seeing it to one side, scan after scan.
        self.radar_lean = np.zeros(capacity, dtype=np.float32)
        # ... and, from its bearings that another radar-placed track's gate holds too, the
        # decaying log odds that the emitter is this track's rather than the likeliest such
        # other's, as of time `emitter_odds_t` (`EmitterIds.vouched`).
        self.emitter_odds = np.zeros(capacity)
        self.emitter_odds_t = np.zeros(capacity)
        # While cameras feed the track, the running mean of the radar plots' signed,
        # normalised azimuth residuals, and until when no camera may update it since that
        # lean said a camera's lines drag it (camera_drag.py).
        self.camera_lean = np.zeros(capacity, dtype=np.float32)
        self.cameras_barred_until = np.full(capacity, -np.inf)
        # When a camera's line of sight last fell in the track's gate, whether it updated the
        # track or not (a glimpse, a contested line): a camera still sees something there.
        self.t_camera_line = np.full(capacity, -np.inf)
        # Per site, the log odds of drone against bird its detections given to the track
        # said (site_classes.py): sites of a track of angles alone that disagree see two
        # objects.
        self.site_drone_odds = np.zeros((capacity, self.n_sensors), dtype=np.float32)
        self.barred_emitter = np.full((capacity, BARRED_SLOTS), None, dtype=object)
        # ... and which of those bars a refused claim set (`EmitterIds.claim_fits`): those may
        # be lifted once the emitter's bearings fit the track (`EmitterIds.check`).
        self.bar_refused = np.zeros((capacity, BARRED_SLOTS), dtype=bool)
        # Motion modes of the IMM (cuas/tracking/imm.py): probabilities, states, covariances,
        # as the track's last IMM cycle (an update, or a point of the mixing grid) left them,
        # at its time `t_mix`. x and P above are their combination predicted to the
        # tracker's time, which every other stage uses.
        m = self.mode_prior.shape[0]
        self.mode_p = np.zeros((capacity, m))
        self.mode_x = np.zeros((capacity, m, STATE_DIM))
        self.mode_P = np.zeros((capacity, m, STATE_DIM, STATE_DIM))
        self.t_mix = np.zeros(capacity)

    def _grow(self, needed: int) -> None:
        capacity = self.capacity
        while capacity < needed:
            capacity = max(capacity + 1, int(capacity * GROWTH))
        self._resize(capacity)

    def _resize(self, capacity: int) -> None:
        old = {name: getattr(self, name) for name in self._fields}
        self._allocate(capacity)
        for name, values in old.items():
            getattr(self, name)[: self.n] = values[: self.n]

    def add(self, x: NDArray[np.float64], P: NDArray[np.float64], t: float, sensor: int) -> None:
        """Append new tentative tracks with states (k, 6) and covariances (k, 6, 6)."""
        k = x.shape[0]
        if k == 0:
            return
        if self.n + k > self.capacity:
            self._grow(self.n + k)
        rows = slice(self.n, self.n + k)
        self.x[rows] = x
        self.P[rows] = P
        self.track_id[rows] = np.arange(self.next_id, self.next_id + k)
        self.status[rows] = TENTATIVE
        self.history[rows] = 1
        self.t_birth[rows] = t
        self.t_update[rows] = t
        self.last_hit[rows] = -np.inf
        self.last_hit[rows, sensor] = t
        self.last_named[rows] = -np.inf
        self.last_named[rows, sensor] = t
        self.t_crossed[rows] = np.nan
        self.t_vouched[rows] = np.nan
        self.class_logp[rows] = -np.log(N_CLASSES)
        self.class_bare[rows] = np.nan
        self.uas_id[rows] = None
        self.emitter_id[rows] = None
        self.friendly[rows] = False
        self.unseen[rows] = 0
        self.shadowed[rows] = False
        self.identity_echo[rows] = 0
        self.emitter_misfit[rows] = 0.0
        self.emitter_lean[rows] = 0.0
        self.radar_lean[rows] = 0.0
        self.emitter_odds[rows] = 0.0
        self.emitter_odds_t[rows] = t
        self.camera_lean[rows] = 0.0
        self.cameras_barred_until[rows] = -np.inf
        self.t_camera_line[rows] = -np.inf
        self.site_drone_odds[rows] = 0.0
        self.barred_emitter[rows] = None
        self.bar_refused[rows] = False
        self.mode_p[rows] = self.mode_prior
        self.mode_x[rows] = x[:, None]
        self.mode_P[rows] = P[:, None]
        self.t_mix[rows] = t
        self.next_id += k
        self.n += k

    def store_modes(
        self,
        rows: NDArray[np.intp],
        mu: NDArray[np.float64],
        xm: NDArray[np.float64],
        Pm: NDArray[np.float64],
    ) -> None:
        """Set the motion modes (p, M), (p, M, 6), (p, M, 6, 6) of rows `rows` (distinct) and
        their x, P to the modes' combination: one compiled pass when the kernels are enabled,
        this numpy code otherwise."""
        if kernels.ENABLED:
            update_kernels.store_modes(
                rows, mu, xm, Pm, self.mode_p, self.mode_x, self.mode_P, self.x, self.P
            )
            return
        self.mode_p[rows], self.mode_x[rows], self.mode_P[rows] = mu, xm, Pm
        self.x[rows], self.P[rows] = combine(mu, xm, Pm)

    def remove(self, mask: NDArray[np.bool_]) -> NDArray[np.int64]:
        """Delete the live rows where `mask` is true; returns the deleted track ids."""
        dead = mask.nonzero()[0]
        if not dead.size:
            return np.zeros(0, dtype=np.int64)
        removed = self.track_id[dead]
        self._delete(mask, dead)
        return removed

    def pop(self, mask: NDArray[np.bool_]) -> TrackRows:
        """Delete the live rows where `mask` is true, and return them (`rows`, then `remove`:
        the rows found once for both)."""
        dead = mask.nonzero()[0]
        if not dead.size:
            return self.none
        gone = TrackRows(**{name: getattr(self, name)[dead] for name in self._fields})
        self._delete(mask, dead)
        return gone

    def _delete(self, mask: NDArray[np.bool_], dead: NDArray[np.intp]) -> None:
        """Delete the live rows `dead` (where `mask`, of the live rows, is true)."""
        first = int(dead[0])
        count = self.n - dead.size
        # Rows before the first deleted one stay where they are: the deleted are mostly new
        # tentative tracks (clutter), at the end of the table, so only a short tail moves
        # (often none at all).
        moved = first + (~mask[first:]).nonzero()[0]
        if moved.size:
            # The survivors behind the first deleted row are usually one run (a clutter
            # track deleted among those born after it): moved as a slice, not gathered.
            lo, hi = int(moved[0]), int(moved[-1]) + 1
            source = slice(lo, hi) if hi - lo == moved.size else moved
            for name in self._fields:
                array = getattr(self, name)
                array[first:count] = array[source]
        self.n = count
        # A burst of tentative tracks (crossing lines in a swarm) grew the table; once the
        # live rows fill under 1 / GROWTH^2 of it, it shrinks back to GROWTH times them (the
        # gap between the two keeps a table at the edge from resizing back and forth).
        if self.capacity > MIN_CAPACITY and count * GROWTH**2 < self.capacity:
            self._resize(max(MIN_CAPACITY, int(count * GROWTH) + 1))

    def rows(self, select: NDArray[np.bool_] | slice | None = None) -> TrackRows:
        """A copy of the live rows picked by a mask or slice (default: all of them)."""
        pick = slice(None) if select is None else select
        if isinstance(pick, slice):
            return TrackRows(
                **{name: getattr(self, name)[: self.n][pick].copy() for name in self._fields}
            )
        # A mask or index array already gathers a copy.
        return TrackRows(**{name: getattr(self, name)[: self.n][pick] for name in self._fields})

    def holders(self, column: str) -> dict[str, int]:
        """The live row holding each identifier of `column` (`uas_id`, `emitter_id`): an
        identifier belongs to one track at a time (identity.py)."""
        live = getattr(self, column)[: self.n].tolist()
        return {name: row for row, name in enumerate(live) if name is not None}

    def __len__(self) -> int:
        return self.n
