"""How crmqual finds the Salesforce adapter: the ``AdapterPlugin`` its entry point names."""

from __future__ import annotations

from importlib import resources

from crmqual.adapters.salesforce.config import SalesforceConnection
from crmqual.contract import Adapter, AdapterPlugin, BuildContext


def _build(connection: SalesforceConnection, context: BuildContext) -> Adapter:
    from crmqual.adapters.salesforce.adapter import SalesforceAdapter

    ca_file = context.path(connection.ca_file) if connection.ca_file else None
    key = connection.private_key_file
    return SalesforceAdapter(
        connection, ca_file=ca_file, key_file=context.path(key) if key else None
    )


PLUGIN = AdapterPlugin(
    name="salesforce",
    connection_model=SalesforceConnection,
    build=_build,
    init_template=resources.files("crmqual.adapters.salesforce").joinpath("init.yaml"),
    mapping=resources.files("crmqual.mappings").joinpath("salesforce.yaml"),
    summary="Salesforce Accounts through simple-salesforce (REST, sObject Collections, Bulk 2.0)",
)
