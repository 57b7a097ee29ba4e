"""Many CRM orgs on Celery workers, one shared state store, one lock per org (issue 23).

    ``config``     fleet.yaml: orgs, schedules, priorities, concurrency classes, retries
    ``schedule``   when an org is due (its cron in its own time zone; beat's entries)
    ``decisions``  what follows from an org's exit code: done, retry, defer, stop
    ``run``        one org's run, the same on a worker and locally
    ``tasks``      the Celery app: ``sync_org`` and beat's schedule
    ``app``        ``celery -A crmqual.fleet.app`` (the fleet file from $CRMQUAL_FLEET)
    ``local``      ``crmqual fleet run``: the due orgs on this machine, without a broker
    ``status``     every org in one place, and the Prometheus metrics file

Needs the ``fleet`` extra (``pip install 'crmqual[fleet]'``).
"""
