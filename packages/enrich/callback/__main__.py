"""DigitalOcean Functions handler: parse the event, call the library, return its response."""

from sxe.adapters.apollo_callback import handle


def main(event, context=None):
    return handle(event, context)
