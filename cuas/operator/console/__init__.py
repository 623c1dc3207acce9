"""`cuas console`: the operations centre's web page (DESIGN.md, "Operations console").

- `picture.py`: the camp's current picture as the console knows it, and one bounded feed per
  browser (track cycles latest-wins, alert messages never dropped).
- `camp_view.py`: the camp file as the page draws it (zones, sensors, the metric frame).
- `bridge.py`: the camp's MQTT output into the picture, and operators' acks out to MQTT.
- `review.py`: a recorded output (`cuas replay --out`, drills) played into the picture.
- `tiles.py`: offline map tiles from a folder of XYZ tiles or an MBTiles file.
- `server.py`: the aiohttp app: the page, its static files, the WebSocket.
- `command.py`: the `cuas console` command.
"""
