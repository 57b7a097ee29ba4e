"""Follow-up tasks in a CRM, one per warning event: what Zoho's and Salesforce's follow-ups
share. The task's subject ends with a marker, ``[crmqual:<event id>]``; before a task is
created the CRM is searched for the marker, and a create whose answer was lost is looked up
rather than sent again (``ensure``), so a rerun, a crash between creating the task and
recording it, or a lost answer never makes a second task."""

from __future__ import annotations

import logging
import re
from typing import Protocol

from crmqual.contract import FollowUp
from crmqual.http import HttpClient, Operation

log = logging.getLogger(__name__)

#: the longest subject the CRMs take (Zoho's and Salesforce's Subject: 255 characters)
SUBJECT_MAX = 255
#: What a follow-up returns when its account is gone: recorded so it is not retried.
NO_ACCOUNT = "none:account-not-found"
_EVENT_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")


def marker(event_id: str) -> str:
    """The text that ties a task to its event, kept at the end of the subject."""
    return f"[crmqual:{event_id}]"


def subject(item: FollowUp, limit: int = SUBJECT_MAX) -> str:
    """The follow-up's subject with the marker, cut to ``limit`` characters (the marker kept)."""
    tag = " " + marker(item.event_id)
    return item.subject[: limit - len(tag)].rstrip() + tag


class Tasks(Protocol):
    """A CRM's task calls, as ``ensure`` uses them."""

    def find(self, event_id: str) -> str | None:
        """The id of a task carrying the event's marker, if any."""
        ...

    def owner_of(self, account_id: str) -> str | None:
        """The account owner's id; None when the account does not exist."""
        ...

    def create(self, item: FollowUp, owner: str, *, within: Operation | None = None) -> str:
        """Create the task, sent once (``resend=False``) as an attempt ``within`` the
        operation; its id."""
        ...


def ensure(tasks: Tasks, http: HttpClient, item: FollowUp, crm: str) -> str:
    """The id of the task for ``item.event_id``: the existing one, else a new one (the create
    one operation under ``http``'s retry policy, looked up after each failure after which
    the CRM may have made it); ``NO_ACCOUNT`` when the account is gone."""
    if not _EVENT_ID.match(item.event_id):  # nothing a query would read specially
        raise ValueError(f"event id {item.event_id!r} cannot be used as a Task marker")
    found = tasks.find(item.event_id)
    if found is not None:
        return found
    owner = item.owner or tasks.owner_of(item.account_id)
    if owner is None:
        log.warning(
            "follow-up %s: account %s not found in %s; no Task made",
            item.event_id,
            item.account_id,
            crm,
        )
        return NO_ACCOUNT

    def found_after_failure() -> str | None:
        again = tasks.find(item.event_id)
        if again is None:
            log.info(
                "follow-up %s: the create failed and made no Task; sending it again",
                item.event_id,
            )
        return again

    return http.retrying(
        lambda operation: tasks.create(item, owner, within=operation),
        reconcile=found_after_failure,
    )
