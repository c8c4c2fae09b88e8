"""Delivery decisions in process, against a database and a Redis db of this module's own
(SQLite and PostgreSQL) and a real receiver: the SSRF guard at send time (checked addresses,
pinned connections, a refused address contacting nothing), the whole-request deadline, the
retry schedule the settings declare, giving up, 410 and lost senders."""

from __future__ import annotations

import dataclasses
import random
import socket
import threading
import time
import uuid
from datetime import timedelta

import pytest
import redis
from sqlalchemy import select

import worker.webhooks.delivery as delivery_module
from shared import lifecycle
from shared.models import DisabledWebhookUrl, Job, WebhookDelivery, utcnow
from shared.queues import make_celery
from shared.settings import Settings
from shared.ssrf import UnsafeUrl
from shared.status import JobStatus
from tests.support.receiver import Answer
from tests.support.rows import tenant_id, waiting
from tests.support.stack import stack_env
from worker.sweeper import sweep
from worker.webhooks.delivery import deliver
from worker.webhooks.schedule import next_delay_s
from worker.webhooks.sender import EXCERPT_BYTES, _pinned_connector, post


@pytest.fixture
def hooks(own_stack, receiver):
    """Settings that allow the loopback receiver, and a maker of committed `completed` events
    for a tenant of this test's own."""
    settings = dataclasses.replace(own_stack.settings, webhook_allowlist=["127.0.0.1/32"],
                                   webhook_timeout_s=1.0)
    celery = make_celery(settings)
    tenant = tenant_id(own_stack, f"hooks-{uuid.uuid4().hex[:8]}")

    def completed_event(url: str) -> uuid.UUID:
        job_id = uuid.uuid4()
        with own_stack.db.session() as session:
            session.add(Job(id=job_id, tenant_id=tenant, type="diag_sleep",
                            status=JobStatus.RUNNING.value, input={"seconds": 0},
                            webhook={"url": url, "events": ["completed"]}, attempts=1,
                            started_at=utcnow()))
        with own_stack.db.session() as session:
            lifecycle.transition(session, job_id, from_statuses=[JobStatus.RUNNING],
                                 to=JobStatus.SUCCEEDED, result={"ok": True})
        with own_stack.db.session() as session:
            return session.scalar(select(WebhookDelivery.id)
                                  .where(WebhookDelivery.job_id == job_id))

    return own_stack, settings, celery, completed_event


def _delivery(stack, delivery_id) -> WebhookDelivery:
    with stack.db.session() as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        delivery.attempts  # noqa: B018 (load them while the session is open)
        return delivery


def _resolves_to(*addresses, calls=None):
    def resolve(host, port, type):
        if calls is not None:
            calls.append(host)
        return [(socket.AF_INET, type, 6, "", (a, port)) for a in addresses]
    return resolve


def _port(receiver) -> int:
    return receiver.server.server_address[1]


def test_refused_addresses_are_never_contacted(monkeypatch):
    def no_connections(*args, **kwargs):
        raise AssertionError("a refused address must not be connected to")

    monkeypatch.setattr(socket.socket, "connect", no_connections)
    loopback = post("http://127.0.0.1:9/hook", b"{}", {}, timeout_s=1, allowlist=[])
    assert loopback.refused and "loopback" in loopback.error and loopback.status_code is None

    mixed = post("http://shop.example/hook", b"{}", {}, timeout_s=1, allowlist=[],
                 resolve=_resolves_to("93.184.216.34", "10.1.2.3"))
    assert mixed.refused and "private" in mixed.error


def test_the_connection_goes_to_the_checked_address_not_a_second_lookup(receiver):
    """DNS rebinding: `hooks.example` has no real DNS entry, so the request can reach the
    receiver only through the address the guard checked; a second lookup is never made."""
    path = f"/pinned-{uuid.uuid4().hex[:6]}"
    receiver.script(path, 200)
    calls: list[str] = []
    result = post(f"http://hooks.example:{_port(receiver)}{path}", b"{}", {}, timeout_s=2,
                  allowlist=["127.0.0.1/32"], resolve=_resolves_to("127.0.0.1", calls=calls))
    assert (result.status_code, result.error, result.refused) == (200, None, False)
    assert calls == ["hooks.example"]
    [request] = receiver.received(path)
    assert request.headers["Host"] == f"hooks.example:{_port(receiver)}"


def test_a_rebinding_name_reaches_only_the_first_answer(receiver, monkeypatch):
    """The resolver answers an allowlisted address first and a refused one after; every
    connection the sender makes goes to the first."""
    path = f"/rebind-{uuid.uuid4().hex[:6]}"
    receiver.script(path, 200)
    answers = iter([["127.0.0.1"], ["10.9.9.9"], ["10.9.9.9"]])
    connected: list[str] = []
    real_create_connection = socket.create_connection

    def resolve(host, port, type):
        return _resolves_to(*next(answers))(host, port, type)

    def watching(address, *args, **kwargs):
        connected.append(address[0])
        return real_create_connection(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", watching)
    result = post(f"http://hooks.example:{_port(receiver)}{path}", b"{}", {}, timeout_s=2,
                  allowlist=["127.0.0.1/32"], resolve=resolve)
    assert result.status_code == 200
    assert connected == ["127.0.0.1"]


def test_the_connected_address_is_checked_again(receiver):
    port = _port(receiver)
    connect = _pinned_connector("hooks.example", port, ["127.0.0.1"], allowlist=[])
    with pytest.raises(UnsafeUrl, match="loopback"):
        connect(("hooks.example", port), 1)
    allowed = _pinned_connector("hooks.example", port, ["127.0.0.1"], allowlist=["127.0.0.1/32"])
    allowed(("hooks.example", port), 1).close()
    # A dead first address falls through to the next checked one.
    fallback = _pinned_connector("hooks.example", port, ["127.0.0.2", "127.0.0.1"],
                                 allowlist=["127.0.0.0/8"])
    dead = _pinned_connector("hooks.example", 1, ["127.0.0.1"], allowlist=["127.0.0.0/8"])
    fallback(("hooks.example", port), 1).close()
    with pytest.raises(ConnectionRefusedError):
        dead(("hooks.example", 1), 1)


def test_a_peer_refused_once_connected_is_a_refusal_not_a_crash(receiver, monkeypatch):
    """The connected peer is checked again; when that check refuses (which a real network
    can only make happen between the lookup and the connect), post() answers `refused`,
    closes the socket and sends nothing. Only the peer check is replaced here."""
    import worker.webhooks.sender as sender

    def refuse_peer(host, address, allowlist):
        raise UnsafeUrl(f"{host} connected to {address}, which is not the checked address")

    monkeypatch.setattr(sender, "check_address", refuse_peer)
    path = f"/peer-{uuid.uuid4().hex[:6]}"
    receiver.script(path, 200)
    result = post(receiver.url(path), b"{}", {}, timeout_s=2, allowlist=["127.0.0.1/32"])
    assert result.refused and result.status_code is None
    assert result.error.startswith("refused: 127.0.0.1 connected to 127.0.0.1")
    assert receiver.received(path) == []


def test_a_refused_address_at_send_time_fails_the_delivery_at_once(hooks, receiver,
                                                                    monkeypatch):
    """The URL passed when the job was submitted; by the time it is sent the allowlist no
    longer covers it (as when a name now resolves inside the network): the delivery fails
    at once, with its reason, no retry, and nothing is contacted."""
    stack, settings, celery, completed_event = hooks
    path = f"/refused-{uuid.uuid4().hex[:6]}"
    delivery_id = completed_event(receiver.script(path, 200))

    def no_connections(*args, **kwargs):
        raise AssertionError("a refused address must not be connected to")

    broker = redis.Redis.from_url(settings.broker_url)
    queued_before = waiting(broker, "webhooks")  # the event's own first message
    monkeypatch.setattr(socket, "create_connection", no_connections)
    closed = dataclasses.replace(settings, webhook_allowlist=[])
    assert deliver(stack.db, closed, celery, delivery_id) == "failed"
    delivery = _delivery(stack, delivery_id)
    assert (delivery.status, delivery.next_attempt_at, delivery.attempt_count) == \
        ("failed", None, 1)
    assert delivery.last_error.startswith("refused:") and "loopback" in delivery.last_error
    [attempt] = delivery.attempts
    assert attempt.status_code is None and attempt.error == delivery.last_error
    assert receiver.received(path) == []
    assert waiting(broker, "webhooks") == queued_before  # no retry on its way


def test_a_trickling_receiver_is_cut_at_the_whole_request_deadline(receiver):
    """One byte every 0.3 s never lets a 1 s socket read time out; the whole-request timer
    ends the attempt at 1 s all the same (the body would take 12 s)."""
    path = f"/trickle-{uuid.uuid4().hex[:6]}"
    receiver.script(path, Answer(200, body=b"x" * 40, trickle_s=0.3))
    result = post(receiver.url(path), b"{}", {}, timeout_s=1, allowlist=["127.0.0.1/32"])
    assert result.status_code is None and result.error == "timed out after 1s"
    assert 900 <= result.latency_ms < 5000


@pytest.fixture
def slow_status_line():
    """A raw server that sends its status line one byte every 0.3 s: no socket read ever
    waits a whole second, and the answer's headers never finish in time."""
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                conn.recv(65536)
                for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok":
                    if stop.is_set():
                        break
                    try:
                        conn.sendall(bytes([byte]))
                    except OSError:
                        break
                    time.sleep(0.3)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/hook"
    stop.set()
    thread.join(5)
    server.close()


def test_a_receiver_trickling_its_headers_is_cut_at_the_deadline(slow_status_line):
    result = post(slow_status_line, b"{}", {}, timeout_s=1, allowlist=["127.0.0.1/32"])
    assert result.status_code is None and result.error == "timed out after 1s"
    assert 900 <= result.latency_ms < 5000


def test_https_is_spoken_to_an_https_url(receiver):
    """The receiver speaks plain HTTP: an https URL to it fails the TLS handshake rather
    than being sent in clear text."""
    path = f"/tls-{uuid.uuid4().hex[:6]}"
    receiver.script(path, 200)
    result = post(f"https://127.0.0.1:{_port(receiver)}{path}", b"{}", {}, timeout_s=2,
                  allowlist=["127.0.0.1/32"])
    assert result.status_code is None and "SSL" in result.error, result
    assert receiver.received(path) == []


def test_a_receiver_that_answers_in_time_is_read_in_full_up_to_the_excerpt(receiver):
    path = f"/excerpt-{uuid.uuid4().hex[:6]}"
    receiver.script(path, Answer(201, body=b"y" * (EXCERPT_BYTES + 500),
                                 headers={"Location": "/x"}))
    result = post(receiver.url(path), b"{}", {"X-Test": "1"}, timeout_s=2,
                  allowlist=["127.0.0.1/32"])
    assert (result.status_code, result.error, result.location) == (201, None, "/x")
    assert result.excerpt == "y" * EXCERPT_BYTES
    [request] = receiver.received(path)
    assert request.headers["X-Test"] == "1" and request.body == b"{}"
    assert request.headers["Content-Type"] == "application/json"


def test_the_default_schedule_retries_for_a_day_then_gives_up(hooks, receiver, monkeypatch):
    """The schedule and window are the settings' own defaults, and the attempts are made by
    `deliver` itself (a fake clock jumps to each due time)."""
    stack, settings, celery, completed_event = hooks
    defaults = Settings.from_env(stack_env("sqlite://", "redis://127.0.0.1:1/0"))
    assert defaults.webhook_retry_window_s == 86400
    settings = dataclasses.replace(settings, webhook_retry_delays_s=defaults.webhook_retry_delays_s,
                                   webhook_retry_window_s=defaults.webhook_retry_window_s)
    path = f"/down-{uuid.uuid4().hex[:6]}"
    delivery_id = completed_event(receiver.script(path, 500))
    clock = [_delivery(stack, delivery_id).created_at]
    monkeypatch.setattr(delivery_module, "utcnow", lambda: clock[0])
    outcomes = []
    while not outcomes or outcomes[-1] == "pending":
        outcomes.append(deliver(stack.db, settings, celery, delivery_id))
        waiting_row = _delivery(stack, delivery_id)
        if waiting_row.next_attempt_at is not None:
            clock[0] = waiting_row.next_attempt_at
        assert len(outcomes) < 40
    delivery = _delivery(stack, delivery_id)
    times = [a.attempted_at for a in sorted(delivery.attempts, key=lambda a: a.number)]
    gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)]
    delays = defaults.webhook_retry_delays_s
    for number, gap in enumerate(gaps, start=1):
        base = delays[min(number, len(delays)) - 1]
        assert 0.8 * base - 0.01 <= gap <= 1.2 * base + 0.01, (number, gap, base)
    assert outcomes[-1] == "failed" and delivery.status == "failed"
    # The first attempt failing a day after the event is the last: it comes at most one
    # (jittered) last delay after the day is up.
    span = (times[-1] - delivery.created_at).total_seconds()
    assert 86400 <= span < 86400 + 1.2 * delays[-1] and 13 <= len(times) <= 17
    assert (times[-2] - delivery.created_at).total_seconds() < 86400
    assert len(receiver.received(path)) == len(times)


def test_next_delays_follow_the_list_then_repeat_its_last_with_jitter():
    delays, rng = [5.0, 30.0, 120.0], random.Random(7)
    for number, base in [(1, 5), (2, 30), (3, 120), (4, 120), (40, 120)]:
        drawn = [next_delay_s(number, delays, rng) for _ in range(200)]
        assert 0.8 * base <= min(drawn) < 0.85 * base and 1.15 * base < max(drawn) <= 1.2 * base


def test_a_long_wait_is_kept_in_the_database_and_sent_by_the_sweeper(hooks, receiver,
                                                                     monkeypatch):
    stack, settings, celery, completed_event = hooks
    broker = redis.Redis.from_url(settings.broker_url)
    settings = dataclasses.replace(settings, webhook_retry_delays_s=[600.0])
    path = f"/later-{uuid.uuid4().hex[:6]}"
    delivery_id = completed_event(receiver.script(path, 503, 200))
    queued = waiting(broker, "webhooks")  # including the event's own first message

    assert deliver(stack.db, settings, celery, delivery_id) == "pending"
    waiting_row = _delivery(stack, delivery_id)
    wait_s = (waiting_row.next_attempt_at - utcnow()).total_seconds()
    assert 0.8 * 600 - 5 <= wait_s <= 1.2 * 600
    assert waiting_row.dispatched_for is None      # no countdown message...
    assert waiting(broker, "webhooks") == queued   # ...nothing more for Redis to hold
    assert deliver(stack.db, settings, celery, delivery_id) == "skipped"  # not due yet

    sweep(stack.db, settings, celery)
    assert _delivery(stack, delivery_id).dispatched_for is None
    due = waiting_row.next_attempt_at + timedelta(seconds=1)
    sweep(stack.db, settings, celery, now=due)
    assert _delivery(stack, delivery_id).dispatched_for == due
    assert waiting(broker, "webhooks") > queued
    # The message the sweeper sent makes the second attempt (ten minutes later, by a clock
    # moved on to then), which the receiver takes.
    monkeypatch.setattr(delivery_module, "utcnow", lambda: due)
    assert deliver(stack.db, settings, celery, delivery_id) == "succeeded"
    delivery = _delivery(stack, delivery_id)
    attempts = sorted(delivery.attempts, key=lambda a: a.number)
    assert [(a.status_code, a.error) for a in attempts] == [(503, "HTTP 503"), (200, None)]
    assert delivery.last_error is None and delivery.next_attempt_at is None


def test_a_short_wait_rides_on_a_countdown_message(hooks, receiver):
    stack, settings, celery, completed_event = hooks
    broker = redis.Redis.from_url(settings.broker_url)
    settings = dataclasses.replace(settings, webhook_retry_delays_s=[60.0])
    delivery_id = completed_event(receiver.script(f"/soon-{uuid.uuid4().hex[:6]}", 502))
    queued = waiting(broker, "webhooks")
    assert deliver(stack.db, settings, celery, delivery_id) == "pending"
    delivery = _delivery(stack, delivery_id)
    assert delivery.dispatched_for == delivery.next_attempt_at
    assert delivery.last_error == "HTTP 502" and delivery.attempt_count == 1
    # The countdown message waits in the queue until a worker takes it.
    assert waiting(broker, "webhooks") == queued + 1


def test_a_redirect_is_not_followed_and_is_retried(hooks, receiver):
    stack, settings, celery, completed_event = hooks
    path = f"/moved-{uuid.uuid4().hex[:6]}"
    delivery_id = completed_event(receiver.script(
        path, Answer(302, headers={"Location": "http://169.254.169.254/"}), 200))
    assert deliver(stack.db, settings, celery, delivery_id) == "pending"
    delivery = _delivery(stack, delivery_id)
    assert delivery.last_error == "HTTP 302 redirect to http://169.254.169.254/ not followed"
    assert len(receiver.received(path)) == 1


def test_a_best_effort_event_is_not_retried(hooks, receiver):
    stack, settings, celery, completed_event = hooks
    delivery_id = completed_event(receiver.script(f"/once-{uuid.uuid4().hex[:6]}", 500))
    with stack.db.session() as session:
        session.get(WebhookDelivery, delivery_id).best_effort = True
    assert deliver(stack.db, settings, celery, delivery_id) == "failed"
    assert _delivery(stack, delivery_id).next_attempt_at is None


def test_a_completed_event_gives_up_after_the_retry_window(hooks, receiver):
    stack, settings, celery, completed_event = hooks
    settings = dataclasses.replace(settings, webhook_retry_window_s=0.001)
    delivery_id = completed_event(receiver.script(f"/down-{uuid.uuid4().hex[:6]}", 500))
    assert deliver(stack.db, settings, celery, delivery_id) == "failed"
    delivery = _delivery(stack, delivery_id)
    assert delivery.status == "failed" and delivery.last_error == "HTTP 500"
    assert [a.status_code for a in delivery.attempts] == [500]
    assert [a.response_excerpt for a in delivery.attempts] == ["ok"]


def test_410_also_stops_other_pending_events_to_that_url(hooks, receiver):
    stack, settings, celery, completed_event = hooks
    url = receiver.script(f"/gone-{uuid.uuid4().hex[:6]}", 410)
    waiting_id, gone = completed_event(url), completed_event(url)
    other = completed_event(receiver.script(f"/other-{uuid.uuid4().hex[:6]}", 200))
    assert deliver(stack.db, settings, celery, gone) == "disabled"
    assert _delivery(stack, gone).attempt_count == 1
    assert _delivery(stack, waiting_id).status == "disabled"
    assert _delivery(stack, other).status == "pending"
    assert deliver(stack.db, settings, celery, waiting_id) == "skipped"
    # A later event to the disabled URL is not sent at all.
    later = completed_event(url)
    assert deliver(stack.db, settings, celery, later) == "disabled"
    settled = _delivery(stack, later)
    assert settled.attempts == [] and settled.status == "disabled"
    assert settled.last_error.startswith("url disabled on ") and settled.finished_at
    assert deliver(stack.db, settings, celery, other) == "succeeded"


def test_a_delivery_whose_sender_died_is_released_by_the_sweeper(hooks, receiver):
    stack, settings, celery, completed_event = hooks
    path = f"/lost-{uuid.uuid4().hex[:6]}"
    delivery_id = completed_event(receiver.script(path, 200))
    busy_id = completed_event(receiver.script(f"/busy-{uuid.uuid4().hex[:6]}", 200))
    long_ago = utcnow() - timedelta(minutes=10)
    with stack.db.session() as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        delivery.status, delivery.sending_since = "sending", long_ago
        busy = session.get(WebhookDelivery, busy_id)
        busy.status, busy.sending_since = "sending", utcnow()  # a sender still at it
    sweep(stack.db, settings, celery)
    assert _delivery(stack, delivery_id).status == "pending"
    assert _delivery(stack, busy_id).status == "sending"
    assert deliver(stack.db, settings, celery, delivery_id) == "succeeded"
    assert deliver(stack.db, settings, celery, busy_id) == "skipped"


@pytest.mark.parametrize("answer", [200, 410, 500])
def test_an_outcome_is_dropped_when_the_sweeper_took_the_attempt_back(hooks, receiver,
                                                                      monkeypatch, answer):
    """The sender is slow past the sweeper's patience: the delivery is pending again, and
    the late outcome, whatever it was, does not overwrite it (the attempt itself is kept)."""
    stack, settings, celery, completed_event = hooks
    url = receiver.script(f"/slow-{uuid.uuid4().hex[:6]}", answer)
    delivery_id = completed_event(url)
    real_post = delivery_module.post

    def slow_post(*args, **kwargs):
        later = utcnow() + timedelta(minutes=10)
        sweep(stack.db, settings, celery, now=later)
        return real_post(*args, **kwargs)

    monkeypatch.setattr(delivery_module, "post", slow_post)
    assert deliver(stack.db, settings, celery, delivery_id) == "released"
    delivery = _delivery(stack, delivery_id)
    assert delivery.status == "pending" and len(delivery.attempts) == 1
    assert delivery.attempts[0].status_code == answer
    with stack.db.session() as session:  # a 410 the sender no longer held disables nothing
        assert session.get(DisabledWebhookUrl, (delivery.tenant_id, url)) is None
