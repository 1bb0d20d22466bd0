import factory

from crm.notifications.models import Notification
from tests.factories import UserFactory


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Notification

    recipient = factory.SubFactory(UserFactory)
    verb = "test_ping"
    title = factory.Sequence(lambda n: f"notification {n}")
    body = "body"
    actor = factory.SubFactory(UserFactory)
