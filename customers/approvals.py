"""The approval kinds of the customer archive."""

from django.utils.translation import gettext_lazy as _

from crm.approvals.registry import ApprovalKind, register
from customers import services

register(
    ApprovalKind(
        code="customers.change",
        label=_("Customer key-field change"),
        apply=services.apply_change_request,
    )
)
register(
    ApprovalKind(
        code="customers.delete",
        label=_("Customer deletion"),
        apply=services.apply_delete_request,
        approver=services.sales_manager_for,
    )
)
