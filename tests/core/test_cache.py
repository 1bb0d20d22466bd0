"""The Redis cache keeps one client per connection pool instead of building one per operation."""

import pytest

from crm.core.cache import ResilientRedisCache
from tests.worker import redis_is_reachable, redis_url


@pytest.mark.skipif(not redis_is_reachable(), reason="Redis is not reachable on 127.0.0.1:6379")
def test_every_operation_goes_through_one_client():
    cache = ResilientRedisCache(redis_url(), {"KEY_PREFIX": "test-cache-client"})
    client = cache._cache.get_client()
    assert cache._cache.get_client(write=True) is client
    cache.set("answer", {"value": 42}, 5)
    assert cache.get("answer") == {"value": 42}
    assert cache.get_many(["answer", "nothing"]) == {"answer": {"value": 42}}
    assert cache._cache.get_client() is client
    cache.delete("answer")
