"""DigitalOcean Functions handler: parse the event, call the library, return its response."""

from sxe.functions import hand_off


def main(event, context=None):
    return hand_off(event, context)
