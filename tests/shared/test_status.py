"""Statuses go queued -> running -> succeeded | failed | canceled and never leave the end."""

from __future__ import annotations

import uuid

import pytest

from shared import lifecycle
from shared.models import Job
from shared.status import IllegalTransition, JobStatus

Q, R, S, F, C = (JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.SUCCEEDED, JobStatus.FAILED,
                 JobStatus.CANCELED)
LEGAL = {(Q, R), (Q, C), (R, S), (R, F), (R, C)}


@pytest.mark.parametrize("source", list(JobStatus))
@pytest.mark.parametrize("target", list(JobStatus))
def test_only_the_documented_transitions_are_legal(source, target):
    if (source, target) in LEGAL:
        source.check_transition(target)
    else:
        with pytest.raises(IllegalTransition):
            source.check_transition(target)


def test_terminal_states():
    assert {s for s in JobStatus if s.is_terminal} == {S, F, C}


def test_lifecycle_refuses_to_write_an_illegal_change(api_only):
    with api_only.db.session() as session, pytest.raises(IllegalTransition):
        lifecycle.transition(session, uuid.uuid4(), from_statuses=[S], to=R)


def test_conditional_update_wins_once(api_only):
    job_id = api_only.submit("user_profile", {"events": [
        {"type": "view", "timestamp": "2011-01-01T00:00:00Z", "title": "MUG"}]}).json["id"]
    with api_only.db.session() as session:
        job = session.get(Job, uuid.UUID(job_id))
        assert lifecycle.transition(session, job.id, from_statuses=[Q], to=R)
        assert not lifecycle.transition(session, job.id, from_statuses=[Q], to=R)
        assert lifecycle.transition(session, job.id, from_statuses=[R], to=S)
        assert not lifecycle.cancel(session, job.id, job.tenant_id)
