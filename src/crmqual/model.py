"""The common account model every adapter maps into and the engine assesses.

The model is flat on purpose: its field names *are* the documented flat naming used by
CSV/JSONL input (`crmqual assess`) and by mappings, with the prior period's statement
fields prefixed ``prior_``. Missing is ``None``, never 0. Ratios are derived (see
``ratios.py``), never stored.

Impossible single values (negative total assets, a negative count, a founding date in
the future...) fail validation naming the field. Statements that do not add up are
*not* an error: the engine reports them as a data-quality finding.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)


class _BlankFree(dict[str, Any]):
    """A validation context of values that hold no blank text, whose text is stripped and
    whose id is set."""


def blank_free_context(today: date) -> dict[str, Any]:
    """The validation context ``{"today": today}`` of values that hold no blank text
    (None where a value is missing), whose text values are stripped of surrounding
    whitespace and whose id is set: nothing to drop or strip before checking."""
    return _BlankFree(today=today)


class BusinessStatus(StrEnum):
    """Registration status of the business (登记状态)."""

    ACTIVE = "active"
    SUSPENDED = "suspended"
    DEREGISTERED = "deregistered"
    LIQUIDATION = "liquidation"


def _currency_code(value: str) -> str:
    code = value.strip().upper()
    if len(code) != 3 or not code.isalpha():
        raise ValueError("must be a three-letter ISO 4217 currency code, e.g. USD or CNY")
    return code


#: No amount in any currency a CRM holds comes near this; larger is a unit or typing error.
AMOUNT_BOUND = 1e15
Currency = Annotated[str, AfterValidator(_currency_code)]
Amount = Annotated[float, Field(ge=-AMOUNT_BOUND, le=AMOUNT_BOUND)]
NonNegative = Annotated[float, Field(ge=0, le=AMOUNT_BOUND)]
Count = Annotated[int, Field(ge=0, le=1_000_000_000)]
Score100 = Annotated[float, Field(ge=0, le=100)]

#: Statement items, as named for the latest period; the prior period adds ``prior_``.
STATEMENT_FIELDS: tuple[str, ...] = (
    "period_end",
    "statement_currency",
    "revenue",
    "ebit",
    "net_income",
    "interest_expense",
    "depreciation",
    "total_assets",
    "total_liabilities",
    "current_assets",
    "current_liabilities",
    "cash",
    "inventory",
    "receivables",
    "equity",
    "retained_earnings",
    "operating_cash_flow",
)


class Account(BaseModel):
    """One customer account as crmqual understands it, whatever CRM it came from."""

    # Text is stripped by ``_blank_is_missing``, not by pydantic's ``str_strip_whitespace``,
    # which costs every record about 2 µs even where a mapping's reader stripped it already.
    model_config = ConfigDict(
        extra="ignore",
        frozen=True,
        validate_default=False,
        allow_inf_nan=False,
    )

    # provenance
    id: str = Field(min_length=1)
    source: str | None = None
    modified_time: datetime | None = None

    # identity and profile (基本信息)
    name: str | None = None
    registration_id: str | None = None
    country: str | None = None
    registered_address: str | None = None
    legal_representative: str | None = None
    founding_date: date | None = None
    registered_capital: NonNegative | None = None
    industry: str | None = None
    employees: Count | None = None
    website: str | None = None
    owner: str | None = None
    #: The account's currency: credit-record amounts, registered capital and the limit.
    currency: Currency | None = None

    # latest financial statement (财务状况)
    period_end: date | None = None
    statement_currency: Currency | None = None
    revenue: NonNegative | None = None
    ebit: Amount | None = None
    net_income: Amount | None = None
    interest_expense: NonNegative | None = None
    depreciation: NonNegative | None = None
    total_assets: NonNegative | None = None
    total_liabilities: NonNegative | None = None
    current_assets: NonNegative | None = None
    current_liabilities: NonNegative | None = None
    cash: NonNegative | None = None
    inventory: NonNegative | None = None
    receivables: NonNegative | None = None
    equity: Amount | None = None
    retained_earnings: Amount | None = None
    operating_cash_flow: Amount | None = None

    # prior financial statement
    prior_period_end: date | None = None
    prior_statement_currency: Currency | None = None
    prior_revenue: NonNegative | None = None
    prior_ebit: Amount | None = None
    prior_net_income: Amount | None = None
    prior_interest_expense: NonNegative | None = None
    prior_depreciation: NonNegative | None = None
    prior_total_assets: NonNegative | None = None
    prior_total_liabilities: NonNegative | None = None
    prior_current_assets: NonNegative | None = None
    prior_current_liabilities: NonNegative | None = None
    prior_cash: NonNegative | None = None
    prior_inventory: NonNegative | None = None
    prior_receivables: NonNegative | None = None
    prior_equity: Amount | None = None
    prior_retained_earnings: Amount | None = None
    prior_operating_cash_flow: Amount | None = None

    # credit record (信用记录), amounts in the account's currency
    external_rating: str | None = None
    external_score: Amount | None = None
    external_score_min: Amount | None = None
    external_score_max: Amount | None = None
    overdue_count: Count | None = None
    overdue_max_days: Count | None = None
    overdue_amount: NonNegative | None = None
    defaults: Count | None = None
    current_exposure: NonNegative | None = None
    requested_limit: NonNegative | None = None
    expected_monthly_purchases: NonNegative | None = None

    # legal record (法律合规性)
    lawsuits_defendant: Count | None = None
    enforcement_records: Count | None = None
    penalties: Count | None = None
    sanctions_hit: bool | None = None
    business_status: BusinessStatus | None = None

    # reputation, operations, ESG, cooperation
    reputation_score: Score100 | None = None
    operations_score: Score100 | None = None
    esg_score: Score100 | None = None
    relationship_years: NonNegative | None = None
    signed_agreement: bool | None = None

    @model_validator(mode="before")
    @classmethod
    def _blank_is_missing(cls, data: Any, info: ValidationInfo) -> Any:
        # CSV cells and CRM pages give "" for an empty value; the model says None. Text is
        # kept without its surrounding whitespace. A mapping's reader, which knows which of
        # its values can be text, has done both.
        if info.context.__class__ is _BlankFree:
            return data
        if isinstance(data, dict):
            kept = {
                k: v
                for k, v in data.items()
                if v is not None and (v.__class__ is not str or v.strip())
            }
            for name in _TEXT_NAMES:
                value = kept.get(name)
                if isinstance(value, str | bytes):
                    kept[name] = value.strip()
            return kept
        return data

    @field_validator("founding_date", "period_end", "prior_period_end")
    @classmethod
    def _not_in_future(cls, value: date | None, info: ValidationInfo) -> date | None:
        if value is None:
            return value
        context = info.context if isinstance(info.context, dict) else {}
        today = context.get("today") or date.today()
        if value > today:
            raise ValueError(f"lies in the future ({value.isoformat()} > {today.isoformat()})")
        return value

    @model_validator(mode="after")
    def _score_scale(self) -> Account:
        low, high = self.external_score_min, self.external_score_max
        if low is not None and high is not None and high <= low:
            raise ValueError("external_score_max must be greater than external_score_min")
        return self


#: Every flat input name, in the documented order (the CSV header of the sample file).
ACCOUNT_FIELDS: tuple[str, ...] = tuple(Account.model_fields)


def _holds_text(annotation: Any) -> bool:
    options = get_args(annotation) or (annotation,)
    return any((get_args(o)[0] if get_origin(o) is Annotated else o) is str for o in options)


#: The fields whose values are text: stripped of surrounding whitespace when validated.
TEXT_FIELDS = frozenset(n for n, f in Account.model_fields.items() if _holds_text(f.annotation))
_TEXT_NAMES = tuple(sorted(TEXT_FIELDS))


def kept_account(values: dict[str, Any]) -> Account:
    """An Account of values a validated Account held (none of them null), read back from
    where crmqual kept them: built without validating again, as ``Account.model_construct``
    would but at a fifth of its cost, the fields given being the ones set.

    Only for values that came out of an Account unchanged: nothing here checks them.
    """
    account = Account.__new__(Account)
    state = _NO_VALUES.copy()
    state.update(values)
    object.__setattr__(account, "__dict__", state)
    object.__setattr__(account, "__pydantic_fields_set__", set(values))
    object.__setattr__(account, "__pydantic_extra__", None)
    object.__setattr__(account, "__pydantic_private__", None)
    return account


_NO_VALUES = dict.fromkeys(ACCOUNT_FIELDS)
