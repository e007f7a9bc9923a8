"""DigitalOcean Functions handler: parse the event, call the library, return its response."""

from sxe.connectors.poll import handle


def main(event, context=None):
    return handle(event, context)
