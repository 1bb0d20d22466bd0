from typing import Any

from django.db import models

from crm.core import crypto


class EncryptedTextField(models.TextField):
    """A text column stored encrypted; reads return the plain text.

    Lookups other than ``isnull`` cannot work on ciphertext: search through a blind-index column
    (see ``crm.core.crypto.blind_index``) kept beside it by the service that writes the value.
    """

    description = "Text encrypted at rest"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return crypto.decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(str(value))
