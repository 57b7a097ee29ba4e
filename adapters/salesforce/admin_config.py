"""The ``admin`` part of a Salesforce connection: who gets access to crmqual's output fields
(two permission sets) and where salespeople see them (a section of the Account page
layouts). ``crmqual provision`` carries it out, ``crmqual check`` verifies it.

    connection:
      admin:
        access:
          integration_user: integration@acme.example   # default: connection.username
          read_profiles: [Standard User, Sales Manager]  # their active users may read
          assign_read: api                             # or "admin": printed as a step
        layouts:
          names: [Account Layout]                      # default: every Account layout
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from crmqual.errors import Invalid

#: A permission set's API name (``Name``): letters, digits and single underscores, starting
#: with a letter and not ending with an underscore, at most 80 characters (Salesforce's
#: developer-name rule, as for fields).
_API_NAME = r"^[A-Za-z](?:_?[A-Za-z0-9])*$"


class SalesforceAccessSettings(BaseModel):
    """The two permission sets crmqual makes (salesforce.md 8.3): one granting read and
    edit on the output fields, assigned to the integration user; one granting read only,
    assigned to the active users of ``read_profiles`` (``assign_read: api``), or left for an
    admin to assign (``assign_read: admin``: provision prints the step)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    edit_permission_set: str = Field("crmqual_Output_Edit", pattern=_API_NAME, max_length=80)
    read_permission_set: str = Field("crmqual_Output_Read", pattern=_API_NAME, max_length=80)
    #: The user crmqual logs in as (its Username); default ``connection.username``. Needed
    #: with the client credentials flow, whose run-as user the connection does not name.
    integration_user: str | None = None
    #: Profiles (by name) whose active users get the read-only permission set.
    read_profiles: tuple[str, ...] = ()
    assign_read: Literal["api", "admin"] = "api"

    @field_validator("read_profiles")
    @classmethod
    def _names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not name.strip() for name in value):
            raise Invalid("a profile name is empty", "配置文件名称为空")
        return value


class SalesforceLayoutSettings(BaseModel):
    """crmqual's section on the Account page layouts (Tooling API ``Layout``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: False: provision leaves the layouts alone (an admin places the fields).
    place: bool = True
    #: The layouts (by ``Name``) to place the section on; empty: every Account layout.
    names: tuple[str, ...] = ()
    #: The section's label; the section is found again by it.
    section: str = Field("Credit & qualification / 资信与准入", min_length=1, max_length=80)


class SalesforceAdminSettings(BaseModel):
    """``connection.admin``: access and layouts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    access: SalesforceAccessSettings = SalesforceAccessSettings()
    layouts: SalesforceLayoutSettings = SalesforceLayoutSettings()
