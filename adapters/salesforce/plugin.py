"""How crmqual finds the Salesforce adapter: the ``AdapterPlugin`` its entry point names."""

from __future__ import annotations

from importlib import resources

from crmqual.adapters.salesforce.config import SalesforceConnection
from crmqual.contract import Adapter, AdapterPlugin, BuildContext
from crmqual.errors import ConfigError, Problem

MISSING = (
    "crm: salesforce needs simple-salesforce, which is not installed: "
    "pip install 'crmqual[salesforce]'"
)
MISSING_ZH = (
    "crm: salesforce 需要 simple-salesforce，但它没有安装：pip install 'crmqual[salesforce]'"
)


def _build(connection: SalesforceConnection, context: BuildContext) -> Adapter:
    if PLUGIN.missing():
        raise ConfigError([Problem("crmqual.yaml", "crm", MISSING, zh=MISSING_ZH)])
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
    requires=("simple_salesforce",),
    extra="salesforce",
)
