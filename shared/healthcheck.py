"""Container healthchecks that Celery has no command for.

    python -m shared.healthcheck beat /tmp/celerybeat-schedule 300

Beat answers no `inspect ping`, but while it runs it rewrites its schedule file at least every
three minutes (Celery's sync interval); a file older than the given seconds means it is stuck.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path


def beat_is_alive(schedule: Path, max_age_s: float, now: float | None = None) -> bool:
    """True when a file of the schedule (dbm may add a suffix) changed within `max_age_s`."""
    files = [p for p in schedule.parent.glob(schedule.name + "*") if p.is_file()]
    if not files:
        return False
    newest = max(p.stat().st_mtime for p in files)
    return (now or time.time()) - newest <= max_age_s


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] != "beat":
        print("usage: python -m shared.healthcheck beat SCHEDULE_FILE MAX_AGE_S", file=sys.stderr)
        return 2
    alive = beat_is_alive(Path(argv[1]), float(argv[2]))
    print("ok" if alive else f"{argv[1]} not written in the last {argv[2]} s")
    return 0 if alive else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
