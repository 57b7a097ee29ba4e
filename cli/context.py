"""The ``-c/--config`` option; opening an org is :mod:`crmqual.context`'s."""

from __future__ import annotations

import os

import click

# Opening an org lives in the core (the fleet's workers open orgs the same way).
from crmqual.context import Context, build_adapter, open_context, state_url
from crmqual.texts import CONFIG_META

__all__ = ["CONFIG_ENV", "Context", "build_adapter", "config_option", "open_context", "state_url"]

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
