"""DigitalOcean web function handoff/cards: pass the event to the library and return its response."""

from sxe.handoff.api import cards


def main(event, context=None):
    return cards(event, context)
