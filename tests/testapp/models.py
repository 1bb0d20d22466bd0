"""A minimal owned model for testing the platform's visibility contract and attachments."""

from django.conf import settings
from django.db import models

from crm.core.visibility import VisibleQuerySet


class NoteQuerySet(VisibleQuerySet["Note"]):
    shared_field = "shared_with"


class Note(models.Model):
    title = models.CharField(max_length=100)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    shared_with = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="+", blank=True)

    objects = NoteQuerySet.as_manager()

    def __str__(self) -> str:
        return self.title
