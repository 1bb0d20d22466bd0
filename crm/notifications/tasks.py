from celery import shared_task

from crm.notifications import services


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_notification_email(notification_id: int) -> None:
    services.notification_send_email(notification_id=notification_id)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_notification_emails(notification_ids: list[int]) -> None:
    services.notifications_send_emails(notification_ids=notification_ids)


@shared_task
def send_pending_emails() -> None:
    services.notifications_send_pending_emails()
