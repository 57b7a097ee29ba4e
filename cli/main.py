"""crmqual command line."""

import click


@click.group()
def main() -> None:
    """crmqual."""


from crmqual.cli.sandbox import sandbox  # noqa: E402

main.add_command(sandbox)
