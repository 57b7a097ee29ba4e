"""The Salesforce dialect of the CRM sandbox: REST, Bulk API 2.0, Tooling and the SOAP/OAuth
logins that simple-salesforce uses, over HTTPS on loopback (see the sandbox README)."""
