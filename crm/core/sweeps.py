"""Beat sweeps in chunks: each chunk of due items is claimed and announced in one transaction,
so a thousand announcements cost a few statements each instead of a few thousand in all.

A chunk that fails is rolled back whole (its claims with it) and handled again item by item,
each in a transaction of its own: one bad row neither blocks the others nor gets lost; it is
logged and left unclaimed for the next run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

from django.conf import settings
from django.db import models, transaction

logger = logging.getLogger(__name__)

T = TypeVar("T")


def chunk_size() -> int:
    """Items per transaction (``SWEEP_CHUNK_SIZE``, 500): read at call time, so tests and
    workers can take smaller bites."""
    return max(1, settings.SWEEP_CHUNK_SIZE)


def chunks(items: Sequence[T], size: int | None = None) -> Iterator[list[T]]:
    size = size or chunk_size()
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def in_chunks(items: Sequence[T], handle: Callable[[list[T]], int]) -> int:
    """``handle(chunk)`` in a transaction per chunk; returns the sum of what it returned."""
    done = 0
    for chunk in chunks(items):
        try:
            with transaction.atomic():
                done += handle(chunk)
        except Exception:  # retried one by one below: the bad item shows itself there
            if len(chunk) == 1:
                logger.exception("Sweep %s failed for %r", _name(handle), chunk[0])
                continue
            logger.warning("Sweep %s: a chunk failed, one by one now", _name(handle), exc_info=True)
            for item in chunk:
                try:
                    with transaction.atomic():
                        done += handle([item])
                except Exception:  # logged; the item stays unclaimed for the next run
                    logger.exception("Sweep %s failed for %r", _name(handle), item)
    return done


def claim(
    queryset: models.QuerySet[models.Model], pks: Sequence[int], column: str, now: object
) -> set[int]:
    """Of the rows ``pks`` that ``queryset`` still holds with ``column`` unset, the keys: locked
    in primary-key order and stamped with ``now`` in one update. A second worker waits on the
    locks (in the same order: no deadlock), then finds the rows claimed."""
    locked = set(
        queryset.filter(pk__in=pks, **{f"{column}__isnull": True})
        .select_for_update()
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if locked:
        queryset.model._default_manager.filter(pk__in=locked).update(**{column: now})
    return locked


def _name(handle: Callable[..., object]) -> str:
    return getattr(handle, "__qualname__", repr(handle))
