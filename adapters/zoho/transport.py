"""What a Zoho transport is: the way describe, server time, reads and writes reach Zoho.

``ZohoAdapter`` holds one: ``RestTransport`` (``rest``: crmqual's own client on REST API v8,
with the bulk paths) by default, ``SdkTransport`` (``sdk``: Zoho's zcrmsdk, API v2) for
``transport: sdk``. Whatever the transport, provisioning, ``crmqual check`` and follow-up
Tasks go through the REST API (``ZohoApi``), which both transports share: one token, one
retry policy, one call counter, one credit reading.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from crmqual.contract import ReadQuery, RecordResult

if TYPE_CHECKING:
    from crmqual.adapters.zoho.api import ZohoApi
    from crmqual.adapters.zoho.config import ZohoConnection
    from crmqual.adapters.zoho.fields import ZohoField


class ZohoTransport(Protocol):
    """Describe, server time, read and write for one module of one org."""

    #: Whether reads and writes through it can take Zoho's bulk paths (its capabilities).
    @property
    def bulk_read(self) -> bool: ...

    @property
    def bulk_write(self) -> bool: ...

    @property
    def fields(self) -> Mapping[str, ZohoField] | None:
        """The fields the last ``describe`` found (None before the first)."""
        ...

    def describe(self) -> dict[str, ZohoField]: ...

    def server_time(self) -> datetime:
        """The ``Date`` of a recent answer, else of a one-record list call made for it."""
        ...

    def read(self, query: ReadQuery) -> Iterator[list[dict[str, Any]]]: ...

    def expected(self, query: ReadQuery) -> int | None:
        """The count the current read of ``query`` took, if it took one."""
        ...

    def write_batch_for(self, queued: int) -> int: ...

    def write(self, updates: Sequence[tuple[str, Mapping[str, Any]]]) -> list[RecordResult]:
        """One result per record, in order (Zoho's reserved fields already refused)."""
        ...

    def fields_changed(self) -> None:
        """Fields were created or changed through the REST API: forget cached metadata."""
        ...

    def close(self) -> None: ...


#: Builds a transport on the org's shared ``ZohoApi`` (``sleep``: how waits are spent).
TransportFactory = Callable[["ZohoApi", "ZohoConnection", Callable[[float], None]], ZohoTransport]
