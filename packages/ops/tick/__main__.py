"""DigitalOcean Functions handler: parse the event, call the library, return its response."""

from sxe.functions import tick


def main(event, context=None):
    return tick(event, context)
