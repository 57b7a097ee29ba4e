"""A configuration problem's Chinese reason (``crmqual.yamlfile.reason_zh``): a list of
allowed values reads the Chinese way, every other text as pydantic gave it."""

from __future__ import annotations

from typing import Literal

import pytest
from pydantic import BaseModel, ValidationError

from crmqual.yamlfile import reason_zh


class Settings(BaseModel):
    data_centre: Literal["us", "eu", "cn"]
    pair: Literal["on", "off"] = "on"
    retries: int = 0


def error_of(**given: object) -> dict[str, object]:
    with pytest.raises(ValidationError) as caught:
        Settings.model_validate(given)
    [error] = caught.value.errors()
    return dict(error)


def test_choices_are_listed_the_chinese_way() -> None:
    assert reason_zh(error_of(data_centre="mars")) == "应为以下之一：'us'、'eu'、'cn'"
    assert reason_zh(error_of(data_centre="us", pair="x")) == "应为以下之一：'on'、'off'"


def test_other_reasons_are_not_changed() -> None:
    assert reason_zh(error_of(data_centre="us", retries="many")) == "应为整数"
