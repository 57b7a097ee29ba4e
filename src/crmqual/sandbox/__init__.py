"""The local CRM sandbox: shared machinery and one package per dialect (see README.md)."""
