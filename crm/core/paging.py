"""Pagination that counts no more than the page already has."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.utils.functional import cached_property


class CountedPaginator(Paginator):
    """A paginator told its count, which the page has already taken another way (the ticket
    queue's tab counts, the customers' per-owner counts), so that it runs no COUNT of its own."""

    def __init__(self, object_list: Any, per_page: int, count: int) -> None:
        super().__init__(object_list, per_page)
        self.known_count = count

    @cached_property
    def count(self) -> int:
        return self.known_count
