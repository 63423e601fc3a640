"""Extension points for apps to the right (orders) without importing them: they register a
callable in their AppConfig.ready. Called inside the service's transaction."""

from __future__ import annotations

from collections.abc import Callable

DOSSIER_ENDED: list[Callable] = []  # (dossier, actor) — rejected, withdrawn or abandoned
DOSSIER_APPROVED: list[Callable] = []  # (dossier, referencing, actor)
