"""Free text citizens write, with the identifiers they mention in passing (references, postcodes, numbers)."""

from __future__ import annotations

import random

ASKS: dict[str, tuple[str, ...]] = {
    "council_tax": (
        "I've been charged twice for council tax this month",
        "Can I get the single person discount on my council tax?",
        "I've moved house, how do I change my council tax address",
        "Why has my council tax bill gone up £{amount}?",
    ),
    "waste": (
        "bins not collected again on {street}!!",
        "Missed green bin collection, third time this month",
        "How do I book a bulky waste collection?",
        "Fly tipping at the end of {street}, been there a week",
    ),
    "housing_repairs": (
        "Still waiting for someone to fix the damp in my flat",
        "Boiler broken, no heating or hot water",
        "Repair booked but nobody turned up today",
    ),
    "benefits": (
        "Has my housing benefit claim been processed?",
        "I need help with the council tax support form",
        "Waiting 6 weeks for a decision on my claim",
    ),
    "parking": (
        "I got a parking ticket but I had a valid permit",
        "How do I renew my residents parking permit",
        "Appeal against PCN, the signs were covered",
    ),
    "planning": ("Neighbour building an extension without permission", "When will my planning application be decided?"),
    "adult_social_care": ("My mum needs a care assessment urgently", "Question about the care package for my dad"),
    "highways": ("Huge pothole on {street}, nearly came off my bike", "Street light out on {street} for weeks"),
    "environmental_health": ("Noise from the flat above every night", "Rats in the alley behind {street}"),
    "general": ("Who do I speak to about a complaint?", "What are your opening hours over Christmas?"),
}
SOCIAL_TAGS = ("@RidingsCouncil", "@RidingsCouncil", "@RidingsHelp")


def ask(rng: random.Random, service: str, street: str) -> str:
    return rng.choice(ASKS[service]).format(street=street, amount=rng.randint(5, 60))


def with_mentions(
    rng: random.Random,
    text: str,
    *,
    case_ref: str = "",
    postcode: str = "",
    phone: str = "",
    email: str = "",
    p_postcode: float = 0.15,
    p_phone: float = 0.05,
    p_email: float = 0.03,
) -> str:
    """People quote references when they have one, and drop postcodes and numbers into free text."""
    parts = [text]
    if case_ref:
        parts.append(rng.choice(("my ref is {r}", "ref {r}", "(case {r})", "reference: {r}")).format(r=case_ref))
    if postcode and rng.random() < p_postcode:
        parts.append(rng.choice(("I'm at {p}", "postcode {p}", "{p}")).format(p=postcode))
    if phone and rng.random() < p_phone:
        parts.append(f"call me on {phone}")
    if email and rng.random() < p_email:
        parts.append(f"or email {email}")
    return ". ".join(parts)
