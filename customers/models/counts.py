"""How many customers each owner has, so that an unfiltered customer list counts its pages
from a few rows instead of every customer its reader may see (a manager's ~30,000: 18 ms)."""

from __future__ import annotations

from django.db import models


class OwnerCount(models.Model):
    """The customers one owner has (``owner_key`` 0: the pool, no owner). Kept by Postgres
    statement triggers (migration ``customers.0008``) whatever writes the customers: services,
    ``QuerySet.update``, COPY. Other databases leave it empty and count the customers."""

    POOL = 0

    owner_key = models.BigIntegerField(primary_key=True)
    customers = models.IntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.owner_key}: {self.customers}"
