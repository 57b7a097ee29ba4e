"""``celery -A crmqual.fleet.app worker`` (or ``beat``): the fleet file from $CRMQUAL_FLEET
(default ./fleet.yaml), or from ``crmqual fleet worker --fleet FILE``, which sets it."""

from __future__ import annotations

from crmqual.errors import ConfigError
from crmqual.fleet.config import fleet_path, load_fleet
from crmqual.fleet.tasks import make_app
from crmqual.texts import default_lang

try:
    app = make_app(load_fleet(fleet_path()))
except ConfigError as exc:
    lang = default_lang()
    raise SystemExit("\n".join(p.text(lang) for p in exc.problems)) from None
