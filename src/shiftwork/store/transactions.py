"""DynamoDB transactions as the store runs them: retried while racing another, cancellations read per item."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable

from pynamodb.exceptions import CancellationReason, TransactWriteError
from pynamodb.transactions import TransactWrite

from shiftwork.store.tables import JobRecord, bound

CONDITION_FAILED = "ConditionalCheckFailed"  # a transaction item's cancellation reason
_IN_FLUX = ("TransactionConflict", "ThrottlingError")  # DynamoDB cancels racing transactions: try again
_ATTEMPTS = 10


def transact(write: Callable[[TransactWrite], None]) -> list[CancellationReason | None]:
    """Run `write(transaction)` as one TransactWriteItems, again while DynamoDB reports it racing another.

    Returns [] when it committed, else why it was cancelled: one reason per item (None for an item that was fine).
    """
    connection = bound(JobRecord)._get_connection().connection  # every table is on one endpoint
    for attempt in range(_ATTEMPTS):
        try:
            # the token makes botocore's own retry of a request that committed unseen succeed, not fail its condition
            token = str(uuid.uuid4())
            with TransactWrite(connection=connection, client_request_token=token) as transaction:
                write(transaction)
            return []
        except TransactWriteError as error:
            reasons = list(error.cancellation_reasons)
            if not reasons:
                raise
            if not any(r and r.code in _IN_FLUX for r in reasons) or attempt == _ATTEMPTS - 1:
                return reasons
            time.sleep(random.uniform(0, 0.02 * 2**attempt))  # jittered backoff
    raise AssertionError("unreachable")


def condition_failed(reason: CancellationReason | None) -> bool:
    """Whether this item of a cancelled transaction failed its own condition."""
    return reason is not None and reason.code == CONDITION_FAILED
