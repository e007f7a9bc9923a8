"""DigitalOcean Functions handler: parse the event, call the library, return its response."""

from sxe.functions import check_alarms


def main(event, context=None):
    return check_alarms(event, context)
