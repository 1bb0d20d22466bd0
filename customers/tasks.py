from celery import shared_task
from django.utils import timezone

from customers import tiers


@shared_task
def recompute_tiers() -> int:
    """The nightly tier and lifecycle job (beat entry ``customers.recompute_tiers``).

    Safe when two workers run it at once: tiers are a pure function of the data, and each write
    is conditional on the row still differing, so the slower run writes (and counts) nothing; a
    customer turns lost under a row lock taken with ``skip_locked`` and a re-checked ``type =
    won``, so it is marked, and its ``customer.changed`` emitted, exactly once.
    """
    return tiers.tiers_recompute(now=timezone.now())
