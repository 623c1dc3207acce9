"""`python -m sensors.radar_jsonl ...`: the same as `cuas adapter-radar-jsonl ...`."""

import sys

from sensors.radar_jsonl.command import main

sys.exit(main())
