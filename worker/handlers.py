"""Job type -> the plain function that does the work (tasks stay thin)."""

from __future__ import annotations

from worker.profiling.handler import profile_user
from worker.runner import Handler

HANDLERS: dict[str, Handler] = {
    "user_profile": profile_user,
}
