"""The cache may go away; the pages must not.

Redis holds the cache, the broker and the rate-limit counters. When it stops, Django's own Redis
backend raises on every read, and every page would fail with it. ``ResilientRedisCache`` turns a
connection error into a miss (reads), a no-op (writes) and a warning in the log, so pages are
served from the database until Redis is back; the health page reports the outage meanwhile.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)
UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, OSError)


class ResilientRedisCache(RedisCache):
    def _unavailable(self, operation: str) -> None:
        logger.warning("Cache unavailable: %s skipped", operation, exc_info=True)

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        try:
            return super().get(key, default, version)
        except UNAVAILABLE:
            self._unavailable("get")
            return default

    def get_many(self, keys: Any, version: int | None = None) -> dict[Any, Any]:
        try:
            return super().get_many(keys, version)
        except UNAVAILABLE:
            self._unavailable("get_many")
            return {}

    def has_key(self, key: Any, version: int | None = None) -> bool:
        try:
            return super().has_key(key, version)
        except UNAVAILABLE:
            self._unavailable("has_key")
            return False

    def add(self, key: Any, value: Any, timeout: Any = None, version: int | None = None) -> bool:
        try:
            return super().add(key, value, timeout, version)
        except UNAVAILABLE:
            self._unavailable("add")
            return False

    def set(self, key: Any, value: Any, timeout: Any = None, version: int | None = None) -> None:
        try:
            super().set(key, value, timeout, version)
        except UNAVAILABLE:
            self._unavailable("set")

    def set_many(self, data: Any, timeout: Any = None, version: int | None = None) -> list[Any]:
        try:
            return super().set_many(data, timeout, version)
        except UNAVAILABLE:
            self._unavailable("set_many")
            return list(data)

    def touch(self, key: Any, timeout: Any = None, version: int | None = None) -> bool:
        try:
            return super().touch(key, timeout, version)
        except UNAVAILABLE:
            self._unavailable("touch")
            return False

    def delete(self, key: Any, version: int | None = None) -> bool:
        try:
            return super().delete(key, version)
        except UNAVAILABLE:
            self._unavailable("delete")
            return False

    def delete_many(self, keys: Any, version: int | None = None) -> None:
        try:
            super().delete_many(keys, version)
        except UNAVAILABLE:
            self._unavailable("delete_many")

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        try:
            return super().incr(key, delta, version)
        except UNAVAILABLE as error:
            self._unavailable("incr")
            raise ValueError("cache unavailable") from error  # what callers expect of a miss

    def clear(self) -> None:
        try:
            super().clear()
        except UNAVAILABLE:
            self._unavailable("clear")
