"""Where a Zoho org lives: token server, API domain and upload domain per data centre."""

from __future__ import annotations

from dataclasses import dataclass

# zoho.md section 2: (accounts server, API domain, upload domain) per data centre.
DATA_CENTRES: dict[str, tuple[str, str, str]] = {
    "us": ("https://accounts.zoho.com", "https://www.zohoapis.com", "https://content.zohoapis.com"),
    "eu": ("https://accounts.zoho.eu", "https://www.zohoapis.eu", "https://content.zohoapis.eu"),
    "in": ("https://accounts.zoho.in", "https://www.zohoapis.in", "https://content.zohoapis.in"),
    "cn": (
        "https://accounts.zoho.com.cn",
        "https://www.zohoapis.com.cn",
        "https://content.zohoapis.com.cn",
    ),
    "au": (
        "https://accounts.zoho.com.au",
        "https://www.zohoapis.com.au",
        "https://content.zohoapis.com.au",
    ),
    "jp": ("https://accounts.zoho.jp", "https://www.zohoapis.jp", "https://content.zohoapis.jp"),
    "ca": (
        "https://accounts.zohocloud.ca",
        "https://www.zohoapis.ca",
        "https://upload.zohocloud.ca",
    ),
    "sa": ("https://accounts.zoho.sa", "https://www.zohoapis.sa", "https://files.zoho.sa"),
}


@dataclass(frozen=True)
class ZohoHosts:
    """Base URLs (scheme and host, no path) of the three Zoho services a client talks to."""

    accounts: str
    api: str
    upload: str

    @classmethod
    def for_dc(cls, dc: str = "us") -> ZohoHosts:
        accounts, api, upload = DATA_CENTRES[dc.lower()]
        return cls(accounts=accounts, api=api, upload=upload)

    @classmethod
    def single(cls, base_url: str) -> ZohoHosts:
        """All three services on one base URL, as a served sandbox has them."""
        base = base_url.rstrip("/")
        return cls(accounts=base, api=base, upload=base)

    @property
    def token_url(self) -> str:
        """The full token endpoint, which is what Zoho's SDKs call the accounts URL."""
        return f"{self.accounts}/oauth/v2/token"

    def urls(self) -> tuple[str, str, str]:
        return self.accounts, self.api, self.upload
