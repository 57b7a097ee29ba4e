"""How crmqual finds the Fxiaoke adapter: the ``AdapterPlugin`` its entry point names."""

from __future__ import annotations

from importlib import resources

from crmqual.adapters.fxiaoke.config import FxiaokeConnection
from crmqual.contract import Adapter, AdapterPlugin, BuildContext


def _build(connection: FxiaokeConnection, context: BuildContext) -> Adapter:
    from crmqual.adapters.fxiaoke.adapter import FxiaokeAdapter

    return FxiaokeAdapter(connection)


PLUGIN = AdapterPlugin(
    name="fxiaoke",
    connection_model=FxiaokeConnection,
    build=_build,
    init_template=resources.files("crmqual.adapters.fxiaoke").joinpath("init.yaml"),
    mapping=resources.files("crmqual.mappings").joinpath("fxiaoke.yaml"),
    summary="Fxiaoke (纷享销客) customers (AccountObj) over its open API",
)
