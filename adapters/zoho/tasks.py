"""Follow-up Tasks in Zoho CRM: one Task per warning event, never two.

A follow-up becomes a record of the Tasks module, related to the account (``What_Id`` with
``$se_module: Accounts``) and owned by the account's owner (its ``Owner.id``, read with one
``GET /crm/v8/Accounts/{id}?fields=Owner``). The Task's **Subject** ends with a marker,
``[crmqual:<event id>]``, and the Task is looked for by that marker before it is created:

    POST /crm/v8/coql
    {"select_query": "select id, Subject from Tasks where Subject like '%crmqual:<id>%'
                      order by id asc limit 0, 2"}

Why COQL on the Subject: Subject is a single-line text field, which COQL criteria accept
(multi-line fields such as Description are excluded from criteria, zoho.md 5), and ``like``
finds the marker whatever a person did to the rest of the Subject. COQL queries the records
themselves, while the Search API goes through a search index that answers "contains" for
"equals" in some cases (zoho.md 5) and is reported to lag behind a record just created (not
confirmed): a rerun right after a crash must see the Task the crashed run made. Event ids are
24 hex digits, so the pattern holds no character COQL or LIKE would read specially.

The create is one logical operation under the HTTP client's retry policy
(``HttpClient.retrying``), sent with ``resend=False``: after a lost connection, a timeout or a
5xx answer it is not retried blindly (the Task may exist); the marker is looked up first, and
only if no Task carries it is the create sent again, within the policy's ``max_attempts``
creates in all, with its backoff. The sync stores the event id
before calling ``ensure`` and the Task's id after it; a crash between the two is healed by the
lookup on the next run. Scopes: ``ZohoCRM.modules.tasks.CREATE`` (or ``.ALL``),
``ZohoCRM.modules.accounts.READ`` and ``ZohoCRM.coql.READ``.
"""

from __future__ import annotations

import logging
from typing import Any

from crmqual.adapters import followup_tasks
from crmqual.adapters.followup_tasks import subject
from crmqual.adapters.zoho.api import ZohoApi
from crmqual.contract import FollowUp
from crmqual.errors import ApiError
from crmqual.http import Operation

log = logging.getLogger(__name__)

TASKS = "Tasks"


class ZohoTasks:
    """Creates and finds follow-up Tasks through one org's ``ZohoApi``."""

    def __init__(
        self,
        api: ZohoApi,
        accounts_module: str = "Accounts",
        *,
        version: str = "v8",
    ) -> None:
        self.api = api
        self.accounts = accounts_module
        self.base = f"/crm/{version}"

    def ensure(self, item: FollowUp) -> str:
        """The id of the Task for ``item.event_id``: the existing one, else a new one."""
        return followup_tasks.ensure(self, self.api.http, item, "Zoho")

    # -- the calls ----------------------------------------------------------------------------
    def find(self, event_id: str) -> str | None:
        """The id of the oldest Task whose Subject carries the event's marker, if any."""
        query = (
            f"select id, Subject from {TASKS} where Subject like '%crmqual:{event_id}%' "
            "order by id asc limit 0, 2"
        )
        answer = self.api.call(
            "POST",
            f"{self.base}/coql",
            json={"select_query": query},
            endpoint=f"POST {self.base}/coql",
        )
        rows = answer.body.get("data") if isinstance(answer.body, dict) else None
        if answer.empty or not isinstance(rows, list) or not rows:
            return None
        if len(rows) > 1:
            log.warning("follow-up %s: several Tasks carry its marker; using the oldest", event_id)
        first = rows[0]
        return str(first["id"]) if isinstance(first, dict) and first.get("id") else None

    def owner_of(self, account_id: str) -> str | None:
        """The account's ``Owner.id``; None when the account does not exist."""
        answer = self.api.call(
            "GET",
            f"{self.base}/{self.accounts}/{account_id}",
            params={"fields": "Owner"},
            endpoint=f"GET {self.base}/{self.accounts}/{{id}}",
        )
        rows = answer.body.get("data") if isinstance(answer.body, dict) else None
        if answer.empty or not isinstance(rows, list) or not rows:
            return None
        owner = rows[0].get("Owner") if isinstance(rows[0], dict) else None
        ref = owner.get("id") if isinstance(owner, dict) else owner
        if not ref:
            raise ApiError(f"Zoho gave account {account_id} no Owner id")
        return str(ref)

    def create(self, item: FollowUp, owner: str, *, within: Operation | None = None) -> str:
        """``POST /crm/v8/Tasks`` with one Task; its id. Sent once (``resend=False``); as an
        attempt of ``ensure``'s operation ``within`` it."""
        task: dict[str, Any] = {
            "Subject": subject(item),
            "Description": f"{item.description}\n\ncrmqual event {item.event_id}",
            "What_Id": {"id": item.account_id},
            "$se_module": self.accounts,
            "Owner": {"id": owner},
            "Status": "Not Started",
            "Priority": "High",
        }
        # Workflow rules on new Tasks (e.g. notifying the owner) run as for a Task made by
        # hand; approvals and blueprints do not hold crmqual's Tasks.
        body = {"data": [task], "trigger": ["workflow"]}
        answer = self.api.call(
            "POST",
            f"{self.base}/{TASKS}",
            json=body,
            endpoint=f"POST {self.base}/{TASKS}",
            records=True,
            resend=False,
            within=within,
        )
        items = answer.body.get("data") if isinstance(answer.body, dict) else None
        result = items[0] if isinstance(items, list) and len(items) == 1 else None
        if not isinstance(result, dict):
            raise ApiError(
                f"Zoho answered a Task create with no result (HTTP {answer.status})",
                status=answer.status,
            )
        raw = result.get("details")
        details: dict[str, Any] = raw if isinstance(raw, dict) else {}
        if result.get("status") != "success" or not details.get("id"):
            raise ApiError(
                f"Zoho refused the follow-up Task for account {item.account_id}: "
                f"{result.get('code')} {result.get('message')} {details}",
                status=answer.status,
                code=str(result.get("code") or ""),
            )
        return str(details["id"])
