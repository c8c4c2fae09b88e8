"""Webhook deliveries go pending -> sending -> succeeded | failed | disabled; only a client's
retry reopens a finished one, and an illegal move raises before anything is written."""

from __future__ import annotations

import pytest

from shared import lifecycle
from shared.models import WebhookDelivery
from shared.status import DeliveryStatus, IllegalTransition

P, S, OK, F, D = (DeliveryStatus.PENDING, DeliveryStatus.SENDING, DeliveryStatus.SUCCEEDED,
                  DeliveryStatus.FAILED, DeliveryStatus.DISABLED)
LEGAL = {
    (P, S),  # a sender claims it
    (P, D),  # its URL answered 410 to another event while it waited
    (P, P), (OK, P), (F, P), (D, P),  # a client's retry: due now
    (S, OK), (S, F), (S, D),  # the attempt's outcome
    (S, P),  # retried later, or its sender died and the sweeper released it
}


@pytest.mark.parametrize("source", list(DeliveryStatus))
@pytest.mark.parametrize("target", list(DeliveryStatus))
def test_only_the_documented_moves_are_legal(source, target):
    if (source, target) in LEGAL:
        source.check_transition(target)
    else:
        with pytest.raises(IllegalTransition, match="delivery status cannot change"):
            source.check_transition(target)


def test_an_illegal_move_is_refused_before_a_statement_exists():
    with pytest.raises(IllegalTransition):
        lifecycle.delivery_update(WebhookDelivery.id.is_not(None), from_statuses=[P, OK],
                                  to=S)
