"""Follow-up Tasks in Salesforce: a downgrade or a new severe flag becomes one Task for the
account's owner, never two.

The Task is related to the account (``WhatId``) and owned by the account's owner
(``OwnerId``, read with one query when the follow-up does not name it). Its ``Subject``
ends with a marker, ``[crmqual:<event id>]``, and the Task is looked for by that marker
before it is created:

    GET queryAll/?q=SELECT Id FROM Task WHERE Subject LIKE '%[crmqual:<id>]%' ORDER BY Id
                    LIMIT 2
    POST sobjects/Task {"Subject", "Description", "WhatId", "OwnerId", "Status", "Priority",
                        "ActivityDate"}

``queryAll`` also finds a Task a person has deleted or that Salesforce has archived: an
event gets one Task, whatever became of it. The create is one logical operation under the
HTTP client's retry policy (``HttpClient.retrying``), sent with ``resend=False``: after a
lost connection, a timeout or a 5xx answer it is not sent again blindly (the Task may
exist); the marker is looked up first, and only if no Task carries it is the create sent
again. The sync records the event before calling ``ensure`` and the Task's id after it; a
crash between the two is healed by the lookup on the next run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from typing import Any

from simple_salesforce.api import Salesforce
from simple_salesforce.format import format_soql

from crmqual.adapters import followup_tasks
from crmqual.adapters.followup_tasks import marker, subject
from crmqual.contract import FollowUp
from crmqual.errors import ApiError
from crmqual.http import HttpClient, Operation

log = logging.getLogger(__name__)


class SalesforceTasks:
    """Creates and finds follow-up Tasks through simple-salesforce on crmqual's client."""

    def __init__(
        self,
        sf: Salesforce,
        http: HttpClient,
        sobject: str = "Account",
        today: Callable[[], date] = date.today,
    ) -> None:
        self.sf = sf
        self.http = http
        self.sobject = sobject
        #: the Task's due date (the day it is made)
        self.today = today

    def ensure(self, item: FollowUp) -> str:
        """The id of the Task for ``item.event_id``: the existing one, else a new one."""
        return followup_tasks.ensure(self, self.http, item, "Salesforce")

    def find(self, event_id: str) -> str | None:
        """The id of the first Task whose Subject carries the event's marker, if any."""
        soql = format_soql(
            "SELECT Id FROM Task WHERE Subject LIKE '%{:like}%' ORDER BY Id LIMIT 2",
            marker(event_id),
        )
        rows = list(self.sf.query_all_iter(soql, include_deleted=True))
        if len(rows) > 1:
            log.warning("follow-up %s: several Tasks carry its marker; using the first", event_id)
        return str(rows[0]["Id"]) if rows else None

    def owner_of(self, account_id: str) -> str | None:
        """The account's ``OwnerId``; None when the account does not exist."""
        soql = format_soql(f"SELECT OwnerId FROM {self.sobject} WHERE Id = {{}}", account_id)
        rows = list(self.sf.query_all_iter(soql))
        if not rows:
            return None
        owner = rows[0].get("OwnerId")
        if not owner:
            raise ApiError(f"Salesforce gave account {account_id} no OwnerId")
        return str(owner)

    def create(self, item: FollowUp, owner: str, *, within: Operation | None = None) -> str:
        """``POST sobjects/Task``; the new Task's id. Sent once (``resend=False``)."""
        task: dict[str, Any] = {
            "Subject": subject(item),
            "Description": f"{item.description}\n\ncrmqual event {item.event_id}",
            "WhatId": item.account_id,
            "OwnerId": owner,
            "Status": "Not Started",
            "Priority": "High",
            "ActivityDate": self.today().isoformat(),
        }
        answer = self.http.request(
            "POST",
            f"{self.sf.base_url}sobjects/Task/",
            json=task,
            headers=dict(self.sf.headers),
            endpoint="POST /services/data/{version}/sobjects/Task",
            resend=False,
            within=within,
        )
        try:
            body = answer.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not body.get("success") or not body.get("id"):
            raise ApiError(
                f"Salesforce answered the follow-up Task for account {item.account_id} with "
                f"HTTP {answer.status_code} and no Task id",
                status=answer.status_code,
            )
        return str(body["id"])
