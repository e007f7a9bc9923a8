"""DigitalOcean Functions handler: parse the event, call the library, return its response."""

from sxe.connectors.apify_webhook import handle


def main(event, context=None):
    return handle(event, context)
