from opportunities.models.dictionaries import (
    LostReason,
    ObjectionType,
    OpportunityField,
    SalesTarget,
    Stage,
    StageTaskTemplate,
)
from opportunities.models.orders import Instalment, Order, OrderLine, Receipt
from opportunities.models.pipeline import (
    Competitor,
    ExportLog,
    MilestoneTask,
    Objection,
    Opportunity,
    OpportunityLine,
    StageVisit,
)

__all__ = [
    "Competitor",
    "ExportLog",
    "Instalment",
    "LostReason",
    "MilestoneTask",
    "Objection",
    "ObjectionType",
    "Opportunity",
    "OpportunityField",
    "OpportunityLine",
    "Order",
    "OrderLine",
    "Receipt",
    "SalesTarget",
    "Stage",
    "StageTaskTemplate",
    "StageVisit",
]
