"""``make load``: a mixed workload against gunicorn on the scale data set (see the Makefile).

Reps, managers, service agents and analysts, each signed in with a session of their own made
before the run (the generated users have no password), open the pages of a working day:
customer list and searches, a customer, my work, the calendar, the pipeline board and the
ticket queue. Every answer but a 200 counts as an error, redirects included (a lost session
would otherwise show up as a fast sign-in page). At the end: requests per second, median and
p95, errors; the exit code is 1 if any request failed.
"""

from __future__ import annotations

import math
import os
from collections import defaultdict
from typing import Any
from urllib.parse import urlencode

from locust import FastHttpUser, between, events, task

sessions: dict[str, list[str]] = defaultdict(list)
urls: dict[str, str] = {}
keys: list[str] = []  # every session made, to delete at the end


@events.init.add_listener
def sign_in(environment: Any, **kwargs: Any) -> None:
    """Sessions for the benchmark's users and the pages' addresses, from the data set itself
    (the same samples as ``make bench``: a customer of the rep, its name, pinyin, phone).
    On init, before the run's clock starts: signing in 50 users takes seconds."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.load.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.test import Client
    from django.urls import reverse

    from crm.core import scale

    bench = scale.BenchContext(users={})
    for hook in scale.prepares():
        hook(bench)
    users = getattr(environment.parsed_options, "num_users", None) or 50
    weights = {kind.role: kind.weight for kind in (Rep, Manager, Agent, Analyst)}
    for role, user in bench.users.items():
        if role not in weights:
            continue  # a bench user the mix has no part for (the service supervisor)
        # One session per simulated user of the role (locust shares them out by weight).
        for _ in range(math.ceil(users * weights[role] / sum(weights.values())) + 1):
            client = Client()
            client.force_login(user)
            key = client.cookies[settings.SESSION_COOKIE_NAME].value
            sessions[role].append(key)
            keys.append(key)
    samples = bench.samples
    customers = reverse("customers:list")
    urls.update(
        {
            "home": reverse("home"),
            "customer list": customers,
            "search: name": f"{customers}?{urlencode({'q': samples['name']})}",
            "search: pinyin": f"{customers}?{urlencode({'q': samples['pinyin']})}",
            "search: phone last 4": f"{customers}?{urlencode({'q': samples['last4']})}",
            "customer detail": reverse("customers:detail", args=[samples["customer"]]),
            "calendar": reverse("followups:calendar"),
            "pipeline board": reverse("opportunities:board"),
            "ticket queue": reverse("tickets:list"),
        }
    )


@events.test_stop.add_listener
def sign_out(environment: Any, **kwargs: Any) -> None:
    """The run's sessions go, so that runs leave nothing behind in the data set."""
    from django.contrib.sessions.models import Session

    Session.objects.filter(session_key__in=keys).delete()


@events.quitting.add_listener
def report(environment: Any, **kwargs: Any) -> None:
    total = environment.stats.total
    print(  # noqa: T201 - the figures are what `make load` is for
        f"\nload: {getattr(environment.parsed_options, 'num_users', '?')} users, "
        f"{total.num_requests} requests, {total.total_rps:.1f} requests/s, "
        f"median {total.median_response_time:.0f} ms, "
        f"p95 {total.get_response_time_percentile(0.95):.0f} ms, "
        f"errors {total.num_failures}"
    )
    if total.num_failures:
        environment.process_exit_code = 1


class Staff(FastHttpUser):
    abstract = True
    role = ""
    wait_time = between(1.0, 5.0)  # reading a page, then the next click

    def on_start(self) -> None:
        from django.conf import settings

        cookie = sessions[self.role].pop()
        self.headers = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}"}

    def open(self, page: str) -> None:
        with self.client.get(
            urls[page], name=page, headers=self.headers, allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")


class Rep(Staff):
    weight = 25
    role = "rep"

    @task(3)
    def home(self) -> None:
        self.open("home")

    @task(3)
    def customer_list(self) -> None:
        self.open("customer list")

    @task(1)
    def search_by_name(self) -> None:
        self.open("search: name")

    @task(1)
    def search_by_pinyin(self) -> None:
        self.open("search: pinyin")

    @task(1)
    def search_by_phone(self) -> None:
        self.open("search: phone last 4")

    @task(2)
    def customer(self) -> None:
        self.open("customer detail")

    @task(1)
    def calendar(self) -> None:
        self.open("calendar")

    @task(1)
    def board(self) -> None:
        self.open("pipeline board")


class Manager(Staff):
    weight = 10
    role = "manager"

    @task(2)
    def home(self) -> None:
        self.open("home")

    @task(2)
    def customer_list(self) -> None:
        self.open("customer list")

    @task(1)
    def search_by_name(self) -> None:
        self.open("search: name")

    @task(1)
    def customer(self) -> None:
        self.open("customer detail")

    @task(1)
    def calendar(self) -> None:
        self.open("calendar")

    @task(2)
    def board(self) -> None:
        self.open("pipeline board")


class Agent(Staff):
    weight = 10
    role = "agent"

    @task(4)
    def queue(self) -> None:
        self.open("ticket queue")

    @task(1)
    def home(self) -> None:
        self.open("home")

    @task(1)
    def search_by_phone(self) -> None:
        self.open("search: phone last 4")


class Analyst(Staff):
    weight = 5
    role = "analyst"

    @task(2)
    def customer_list(self) -> None:
        self.open("customer list")

    @task(1)
    def board(self) -> None:
        self.open("pipeline board")

    @task(1)
    def queue(self) -> None:
        self.open("ticket queue")
