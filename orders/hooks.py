"""Extension points for apps to the right (payments) without importing them: they register a
callable in their AppConfig.ready. Called inside the orders service's transaction, after the
order row is locked."""

from __future__ import annotations

from collections.abc import Callable

#: (order, at) -> list of core.errors.ErrorItem: more reasons an order cannot be signed now
#: (payments: an earlier funded order of that establishment and scheme is not recovered)
SIGN_REFUSALS: list[Callable] = []
#: (order, actor, at, reason) -> None: the order has just been cancelled or made void
#: (payments: unpaid requests rejected, a recovery opened for what was paid)
ORDER_ENDED: list[Callable] = []
