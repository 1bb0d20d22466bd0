"""The customer archive's models, split by resource."""

from customers.models.counts import OwnerCount
from customers.models.customers import Contact, Customer, CustomerQuerySet, CustomerTag, RevealLog
from customers.models.dictionaries import (
    CustomerCategory,
    CustomerLevel,
    CustomerScale,
    CustomField,
    DemandTag,
    Dictionary,
    FieldDefinition,
    Industry,
    SourceChannel,
    Tier,
)
from customers.models.leads import LeadInquiry, LeadSource
from customers.models.preferences import SavedView, TierSettings, months_ago
from customers.models.territory import Territory, TerritoryQuerySet
from customers.models.transfer import (
    ExportLog,
    ExportRequest,
    FileFormat,
    ImportJob,
)

__all__ = [
    "Contact",
    "CustomField",
    "Customer",
    "CustomerCategory",
    "CustomerLevel",
    "CustomerQuerySet",
    "CustomerScale",
    "CustomerTag",
    "DemandTag",
    "Dictionary",
    "ExportLog",
    "ExportRequest",
    "FieldDefinition",
    "FileFormat",
    "ImportJob",
    "Industry",
    "LeadInquiry",
    "LeadSource",
    "OwnerCount",
    "RevealLog",
    "SavedView",
    "SourceChannel",
    "Territory",
    "TerritoryQuerySet",
    "Tier",
    "TierSettings",
    "months_ago",
]
