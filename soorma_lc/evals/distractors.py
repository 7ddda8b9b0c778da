"""Distractor events: plausible events of other business domains, seeded and deterministic.

``<domain>.<entity>.<action>`` with a description written from the same words ("Cancel an
existing invoice for customer billing."), and a payload naming the entity. Up to
``len(DOMAINS) * entities * actions`` (over 1,000) distinct events; the same seed always yields
the same events in the same order.
"""

from __future__ import annotations

import random

from soorma_lc.events import EventDefinition, EventTopic

DOMAINS: dict[str, tuple[str, tuple[str, ...]]] = {
    "billing": ("customer billing", ("invoice", "refund", "subscription", "coupon", "dispute")),
    "hr": ("human resources", ("leave", "payroll", "timesheet", "onboarding", "expense")),
    "it": ("internal IT", ("password", "laptop", "license", "mailbox", "vpn")),
    "travel": ("business travel", ("flight", "hotel", "car_rental", "visa", "itinerary")),
    "crm": ("sales relationships", ("lead", "contact", "deal", "account", "campaign")),
    "warehouse": ("stock and shipping", ("pallet", "shipment", "bin", "stock_count", "return")),
    "legal": ("contracts and compliance", ("contract", "nda", "policy", "audit", "claim")),
    "facilities": ("offices and buildings", ("room", "desk", "parking", "badge", "repair")),
    "fleet": ("company vehicles", ("vehicle", "fuel_card", "service", "driver", "route")),
    "procurement": ("buying from suppliers", ("supplier", "purchase_order", "quote", "tender")),
    "support": ("customer support", ("ticket", "escalation", "survey", "macro", "sla")),
    "finance": ("accounting", ("ledger", "budget", "forecast", "journal", "asset")),
}
ACTIONS: dict[str, str] = {
    "create": "Create a new {entity} for {domain}",
    "cancel": "Cancel an existing {entity} in {domain}",
    "update": "Change the details of a {entity} in {domain}",
    "approve": "Approve a pending {entity} for {domain}",
    "archive": "Archive an old {entity} of {domain}",
    "export": "Export the {entity} records of {domain} as a file",
    "notify": "Send a notification about a {entity} in {domain}",
    "audit": "Check a {entity} of {domain} against the rules",
    "assign": "Assign a {entity} of {domain} to a person",
    "schedule": "Schedule a {entity} task for {domain}",
    "price": "Work out the cost of a {entity} for {domain}",
    "merge": "Merge duplicate {entity} entries of {domain}",
    "reopen": "Reopen a closed {entity} in {domain}",
    "forward": "Forward a {entity} of {domain} to another team",
    "verify": "Verify the identity behind a {entity} in {domain}",
    "escalate": "Escalate a stuck {entity} of {domain} to a manager",
    "tag": "Tag a {entity} of {domain} with labels",
    "count": "Count the {entity} items of {domain} per month",
}


def distractor_events(count: int, seed: int = 0) -> list[EventDefinition]:
    """``count`` distinct distractor events (at most every combination of the vocabulary)."""
    combos = [
        (domain, entity, action)
        for domain, (_, entities) in DOMAINS.items()
        for entity in entities
        for action in ACTIONS
    ]
    if count > len(combos):
        raise ValueError(f"at most {len(combos)} distractor events can be generated")
    chosen = random.Random(seed).sample(combos, count)
    return [_event(domain, entity, action) for domain, entity, action in chosen]


def _event(domain: str, entity: str, action: str) -> EventDefinition:
    about, _ = DOMAINS[domain]
    words = entity.replace("_", " ")
    field = f"{entity}_id"
    return EventDefinition(
        event_name=f"{domain}.{entity}.{action}",
        topic=EventTopic.ACTION_REQUESTS,
        description=ACTIONS[action].format(entity=words, domain=about) + ".",
        payload_schema={
            "type": "object",
            "properties": {
                field: {"type": "string", "description": f"Which {words}"},
                "note": {"type": "string", "description": "Anything the agent should know"},
            },
            "required": [field],
        },
    )


def distractor_reply(event: EventDefinition) -> dict[str, str]:
    """What the distractor agent answers: done, and nothing the goal could use."""
    return {"status": "done", "summary": f"{event.event_name}: handled; nothing more to report."}
