"""crmqual command line."""

import click


@click.group()
def main() -> None:
    """crmqual."""
