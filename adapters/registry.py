"""Which adapter serves which ``crm:`` of ``crmqual.yaml``, built from its connection."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ValidationError

from crmqual.config import LoadedConfig
from crmqual.contract import Adapter
from crmqual.errors import ConfigError, Problem
from crmqual.mapping import Mapping


def connection_model(model: type[BaseModel], loaded: LoadedConfig) -> Any:
    """Validate the ``connection:`` section, problems named ``connection.<key>``."""
    try:
        return model.model_validate(loaded.config.connection)
    except ValidationError as exc:
        raise ConfigError(
            [
                Problem(loaded.source, "connection." + ".".join(map(str, e["loc"])), e["msg"])
                for e in exc.errors()
            ]
        ) from None


def _file(loaded: LoadedConfig, mapping: Mapping) -> Adapter:
    from crmqual.adapters.file import FileAdapter, FileConnection

    connection = connection_model(FileConnection, loaded)
    connection.input = str(loaded.path(connection.input))
    connection.output = str(loaded.path(connection.output))
    return FileAdapter(connection, id_field=mapping.id_field, modified_field=mapping.modified_field)


def _zoho(loaded: LoadedConfig, mapping: Mapping) -> Adapter:
    from crmqual.adapters.zoho import ZohoAdapter
    from crmqual.adapters.zoho_config import ZohoConnection

    connection: ZohoConnection = connection_model(ZohoConnection, loaded)
    if connection.transport == "sdk":
        from crmqual.adapters.zoho_sdk import ZohoSdkAdapter

        return ZohoSdkAdapter(connection)
    return ZohoAdapter(connection)


BUILDERS: dict[str, Callable[[LoadedConfig, Mapping], Adapter]] = {"file": _file, "zoho": _zoho}


def make_adapter(loaded: LoadedConfig, mapping: Mapping) -> Adapter:
    builder = BUILDERS.get(loaded.config.crm)
    if builder is None:
        raise ConfigError(
            [Problem(loaded.source, "crm", f"unknown CRM; choose one of {', '.join(BUILDERS)}")]
        )
    return builder(loaded, mapping)
