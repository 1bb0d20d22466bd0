import datetime
import threading

import pytest
from django.db import connection, connections

from crm.core.models import DailySequence
from crm.core.numbering import next_number

DAY = datetime.date(2024, 5, 15)


def test_numbers_are_prefix_date_and_a_three_digit_daily_sequence(db):
    assert next_number("C", day=DAY) == "C20240515001"
    assert next_number("C", day=DAY) == "C20240515002"
    assert next_number("GW", day=DAY) == "GW20240515001"
    assert next_number("C", day=DAY + datetime.timedelta(days=1)) == "C20240516001"


def test_the_sequence_grows_past_999_without_breaking(db):
    DailySequence.objects.create(prefix="C", day=DAY, last_value=998)
    assert next_number("C", day=DAY) == "C20240515999"
    assert next_number("C", day=DAY) == "C202405151000"


def test_the_day_is_the_companys_local_day(db, settings):
    import time_machine

    # 2024-05-15 17:30 UTC is already the 16th in Shanghai.
    with time_machine.travel(datetime.datetime(2024, 5, 15, 17, 30, tzinfo=datetime.UTC)):
        assert next_number("C") == "C20240516001"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs Postgres for real parallelism")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_parallel_creations_never_share_a_number():
    results: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def worker() -> None:
        try:
            start.wait()
            for _ in range(25):
                number = next_number("C", day=DAY)
                with lock:
                    results.append(number)
        except BaseException as error:  # reported by the assertion below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not errors
    assert len(results) == 200
    assert len(set(results)) == 200
    assert sorted(results)[-1] == "C20240515200"


def test_a_block_of_numbers_is_reserved_in_one_go(db):
    from crm.core.numbering import next_numbers

    assert next_number("C", day=DAY) == "C20240515001"
    assert next_numbers("C", 3, day=DAY) == ["C20240515002", "C20240515003", "C20240515004"]
    assert next_number("C", day=DAY) == "C20240515005"
    assert next_numbers("C", 0, day=DAY) == []
