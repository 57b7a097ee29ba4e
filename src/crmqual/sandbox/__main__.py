"""``python -m crmqual.sandbox``: the sandbox's commands, without the rest of the CLI."""

from crmqual.sandbox.command import sandbox

sandbox(prog_name="crmqual sandbox")
