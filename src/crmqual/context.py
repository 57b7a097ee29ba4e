"""Opening what a run needs from ``crmqual.yaml``: adapter, mapping, policy, state.

The CLI's commands and the fleet's workers open an org the same way, through here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from crmqual.compiled import CompiledPolicy, compiled
from crmqual.config import LoadedConfig, load_config
from crmqual.contract import Adapter
from crmqual.errors import ConfigError
from crmqual.mapping import Mapping, load_mapping, resolve_output_fields
from crmqual.policy import load_policy
from crmqual.registry import make_adapter
from crmqual.state import StateStore, default_state_url


@dataclass
class Context:
    loaded: LoadedConfig
    mapping: Mapping
    mapping_source: str
    policy: CompiledPolicy
    state: StateStore
    adapter: Adapter
    #: Output fields found by their label in this run: {output: api name}.
    found_by_label: dict[str, str] = field(default_factory=dict)

    @property
    def target(self) -> str:
        return self.loaded.target


def state_url(loaded: LoadedConfig) -> str:
    url = loaded.config.state
    if url is None:
        return default_state_url()
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        relative = url.removeprefix("sqlite:///")
        return f"sqlite:///{loaded.path(relative)}"
    return url


def build_adapter(loaded: LoadedConfig, mapping: Mapping) -> Adapter:
    """The configured CRM's adapter, from the registry of installed adapters."""
    if loaded.connection_problems:  # held back when the configuration was loaded
        raise ConfigError(list(loaded.connection_problems))
    context = loaded.build_context(mapping.id_field, mapping.modified_field)
    return make_adapter(loaded.config.crm, loaded.config.connection, loaded.source, context)


@contextmanager
def open_context(
    config: str | Path | LoadedConfig, *, with_adapter: bool = True
) -> Iterator[Context]:
    """Everything a command needs; config, mapping and policy fail before anything else.
    ``config``: the file's path, or a configuration already loaded (a fleet's org)."""
    if isinstance(config, LoadedConfig):
        loaded = config
    else:  # a command that reaches no CRM does not need its secrets
        loaded = load_config(config, connection=with_adapter)
    mapping, source = load_mapping(loaded.path(loaded.config.mapping), loaded.config.crm)
    policy = compiled(load_policy(loaded.path(loaded.config.policy)))
    adapter = build_adapter(loaded, mapping) if with_adapter else None
    try:
        found: dict[str, str] = {}
        if adapter is not None:
            mapping, found = resolve_output_fields(adapter, mapping, source)
        state = StateStore(state_url(loaded))
        try:
            labels = {
                o: f"{mapping.outputs[o].label.en} / {mapping.outputs[o].label.zh}" for o in found
            }
            state.save_field_names(loaded.target, {o: (a, labels[o]) for o, a in found.items()})
            yield Context(loaded, mapping, source, policy, state, adapter, found)  # type: ignore[arg-type]
        finally:
            state.close()
    finally:
        if adapter is not None:
            adapter.close()
