"""Offline map tiles for the page: a folder of XYZ tiles, or an MBTiles file (SQLite).

`[console] tiles` names either. The page asks for `/tiles/{z}/{x}/{y}`; nothing is ever
fetched from the internet. MBTiles stores rows in TMS order (y counted from the south), so
the row is flipped; the format is read from the file's metadata.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from cuas.errors import ConfigError

_TYPES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp"}


class TileSource:
    """Tiles by (z, x, y) from a folder (`z/x/y.ext`) or an `.mbtiles` file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._db: sqlite3.Connection | None = None
        self.content_type = "image/png"
        if self.path.is_dir():
            return
        if not self.path.is_file():
            raise ConfigError(str(self.path), "console.tiles", "no such folder or file")
        try:
            self._db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
            row = self._db.execute("SELECT value FROM metadata WHERE name = 'format'").fetchone()
        except sqlite3.Error as exc:
            raise ConfigError(
                str(self.path), "console.tiles", f"not an MBTiles file: {exc}"
            ) from None
        if row is not None:
            self.content_type = _TYPES.get(str(row[0]).lower(), "application/octet-stream")

    def tile(self, z: int, x: int, y: int) -> tuple[bytes, str] | None:
        """The tile's bytes and content type, or None where there is no such tile."""
        if self._db is not None:
            row = self._db.execute(
                "SELECT tile_data FROM tiles WHERE zoom_level=? AND tile_column=? AND tile_row=?",
                (z, x, (1 << z) - 1 - y),
            ).fetchone()
            return (bytes(row[0]), self.content_type) if row is not None else None
        for ext, content_type in _TYPES.items():
            file = self.path / str(z) / str(x) / f"{y}.{ext}"
            if file.is_file():
                return file.read_bytes(), content_type
        return None

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
