"""DigitalOcean Functions handler: parse the event, call the library, return its response."""

from sxe.webhooks.handler import handle


def main(event, context=None):
    return handle(event, context)
