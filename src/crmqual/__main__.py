"""``python -m crmqual``: the same as the ``crmqual`` command."""

from crmqual.cli.main import main

main()
