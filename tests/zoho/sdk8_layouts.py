"""Read the Accounts layouts with Zoho's v8 SDK (zohocrmsdk8-0), unchanged, and print
{layout name: {section label: [field api_name, ...]}} as JSON. Run as its own process
(the SDK keeps global state and writes its token file in the working directory):

    python sdk8_layouts.py API_BASE TOKEN_URL UPLOAD_URL CLIENT_ID CLIENT_SECRET REFRESH_TOKEN
"""

from __future__ import annotations

import json
import sys

from zohocrmsdk.src.com.zoho.api.authenticator.oauth_token import OAuthToken
from zohocrmsdk.src.com.zoho.api.authenticator.store import FileStore
from zohocrmsdk.src.com.zoho.crm.api.dc.data_center import DataCenter
from zohocrmsdk.src.com.zoho.crm.api.initializer import Initializer
from zohocrmsdk.src.com.zoho.crm.api.layouts import (
    GetLayoutsParam,
    LayoutsOperations,
    ResponseWrapper,
)
from zohocrmsdk.src.com.zoho.crm.api.parameter_map import ParameterMap


def main() -> None:
    api_base, token_url, upload_url, client_id, client_secret, refresh = sys.argv[1:7]
    Initializer.initialize(
        environment=DataCenter.Environment(api_base, token_url, upload_url),
        token=OAuthToken(client_id=client_id, client_secret=client_secret, refresh_token=refresh),
        store=FileStore("sdk_tokens.txt"),
        resource_path=".",
    )
    params = ParameterMap()
    params.add(GetLayoutsParam.module, "Accounts")
    response = LayoutsOperations().get_layouts(params)
    wrapper = response.get_object()
    if not isinstance(wrapper, ResponseWrapper):
        raise SystemExit(f"no layouts: HTTP {response.get_status_code()} {wrapper}")
    found = {
        layout.get_name(): {
            section.get_display_label(): [f.get_api_name() for f in section.get_fields() or []]
            for section in layout.get_sections() or []
        }
        for layout in wrapper.get_layouts()
    }
    print(json.dumps(found))


if __name__ == "__main__":
    main()
