"""Path converters. ``<token:…>`` takes the URL-safe random tokens the CRM hands out (status links,
survey links, export downloads), so a malformed one is a 404 from the resolver and never reaches
a view or the database (Postgres refuses a NUL byte in a text parameter with an error)."""

from django.urls import register_converter


class TokenConverter:
    regex = r"[A-Za-z0-9_-]{8,100}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


def register() -> None:
    register_converter(TokenConverter, "token")
