"""The data model: one module per aggregate, all on one declarative Base."""
from .account import ACCOUNT_TYPES, DEBT_TYPES, Account
from .budget import PERIOD_TYPES, Budget
from .category import CATEGORY_KINDS, Category, CategoryMapping, HiddenCategory
from .db import Base, Money, database_url, db, from_cents, to_cents
from .exchange_rate import ExchangeRate
from .expense import Expense
from .goal import GOAL_KINDS, Goal
from .goal_contribution import GoalContribution as GoalContribution  # re-exported
from .rollup import (
    BAND_EDGES,
    AmountRollup,
    DailyPayeeRollup,
    DailyRollup,
    FxAmountRollup,
    FxDailyRollup,
    FxMonthRollup,
    FxPayeeAmountRollup,
    FxPayeeRollup,
    FxRollupState,
    MonthlyRollup,
    PayeeAmountRollup,
    PayeeName,
    PayeeRollup,
    band_bounds,
    band_of,
)
from .rule import ImportRule as ImportRule  # re-exported
from .rule import RuleTag
from .schedule import (
    SCHEDULE_KINDS,
    DismissedRecurring,
    Scenario,
    Schedule,
    ScheduleOccurrence,
    ScheduleTag,
)
from .tag import EditBatch, EditBatchRow, EditBatchTag, Tag, TransactionTag
from .token import SpentToken
from .transaction import TRANSACTION_KINDS, Transaction
from .user import User

__all__ = [
    "ACCOUNT_TYPES", "BAND_EDGES", "CATEGORY_KINDS", "DEBT_TYPES", "GOAL_KINDS", "PERIOD_TYPES", "SCHEDULE_KINDS",
    "TRANSACTION_KINDS",
    "Account", "AmountRollup", "Base", "Budget", "Category", "CategoryMapping", "DailyPayeeRollup", "DailyRollup", "DismissedRecurring", "FxAmountRollup", "FxDailyRollup", "FxMonthRollup", "FxPayeeAmountRollup", "FxPayeeRollup", "FxRollupState",
    "EditBatch", "EditBatchRow", "EditBatchTag", "ExchangeRate", "Expense", "Goal", "HiddenCategory", "Money",
    "MonthlyRollup", "PayeeAmountRollup", "PayeeName", "PayeeRollup", "RuleTag", "Scenario", "Schedule", "ScheduleOccurrence",
    "ScheduleTag", "SpentToken", "Tag", "Transaction", "TransactionTag", "User", "band_bounds", "band_of",
    "database_url", "db", "from_cents", "to_cents",
]
