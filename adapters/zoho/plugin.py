"""How crmqual finds the Zoho adapter: the ``AdapterPlugin`` its entry point names."""

from __future__ import annotations

from importlib import resources

from crmqual.adapters.zoho.config import ZohoConnection
from crmqual.contract import Adapter, AdapterPlugin, BuildContext


def _build(connection: ZohoConnection, context: BuildContext) -> Adapter:
    if connection.transport == "sdk":
        from crmqual.adapters.zoho.sdk import ZohoSdkAdapter

        return ZohoSdkAdapter(connection)
    from crmqual.adapters.zoho.adapter import ZohoAdapter

    return ZohoAdapter(connection)


PLUGIN = AdapterPlugin(
    name="zoho",
    connection_model=ZohoConnection,
    build=_build,
    init_template=resources.files("crmqual.adapters.zoho").joinpath("init.yaml"),
    mapping=resources.files("crmqual.mappings").joinpath("zoho.yaml"),
    summary="Zoho CRM's Accounts over REST API v8 (or Zoho's SDK)",
)
