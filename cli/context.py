"""Opening what a command needs from ``crmqual.yaml``: adapter, mapping, policy, state."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import click

from crmqual.compiled import CompiledPolicy, compiled
from crmqual.config import LoadedConfig, load_config
from crmqual.contract import Adapter
from crmqual.mapping import Mapping, load_mapping, resolve_output_fields
from crmqual.policy import load_policy
from crmqual.registry import make_adapter
from crmqual.state import StateStore, default_state_url
from crmqual.texts import CONFIG_META

CONFIG_ENV = "CRMQUAL_CONFIG"


def _remember_config(ctx: click.Context, _param: click.Parameter, value: str) -> str:
    ctx.meta[CONFIG_META] = value  # for the language the configuration names (--lang)
    return value


def config_option(fn: click.decorators.FC) -> click.decorators.FC:
    return click.option(
        "-c",
        "--config",
        "config_path",
        type=click.Path(dir_okay=False),
        default=lambda: os.environ.get(CONFIG_ENV, "crmqual.yaml"),
        show_default="crmqual.yaml, or $CRMQUAL_CONFIG",
        help="The configuration file.",
        callback=_remember_config,
        is_eager=True,
    )(fn)


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
    context = loaded.build_context(mapping.id_field, mapping.modified_field)
    return make_adapter(loaded.config.crm, loaded.config.connection, loaded.source, context)


@contextmanager
def open_context(config_path: str, *, with_adapter: bool = True) -> Iterator[Context]:
    """Everything a command needs; config, mapping and policy fail before anything else."""
    loaded = load_config(config_path)
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
