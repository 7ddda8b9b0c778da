"""Seeded synthetic registry: ~1,000 events in 20 domains, each with a paraphrased goal query.

Every event is ``<domain>.<entity>.<action>`` with a description written from the canonical
words ("Cancel an existing flight booking ..."). Its goal query rewords the action ("call off
the flight booking"), the entity ("cancel the plane ticket") or both ("call off the plane
ticket"), one third each, so retrieval must match meaning rather than spelling; results can be
reported per kind of rewording. The same seed always gives the same registry and
queries; nothing is downloaded or written.

    python benchmarks/synthetic_events.py [--seed 7] [--show 10]
"""

from __future__ import annotations

import argparse
import random
from dataclasses import dataclass
from typing import Any

from soorma_lc.events import EventDefinition, EventTopic

# domain: (what the domain is about, [entity slug | canonical phrase | paraphrase | paraphrase])
DOMAINS: dict[str, tuple[str, list[str]]] = {
    "travel": (
        "business and holiday travel",
        [
            "flight|flight booking|plane ticket|seat on an airline",
            "hotel|hotel room|place to stay overnight|lodging for the trip",
            "car_rental|rental car|hired vehicle for the trip|car I pick up at the airport",
            "train|train ticket|rail journey|seat on the railway",
            "visa|visa application|entry permit for a foreign country|travel permit paperwork",
            "insurance|travel insurance policy|trip cover|coverage while abroad",
            "transfer|airport transfer|shuttle from the terminal|ride from the airport",
            "cruise|cruise voyage|trip on an ocean liner|boat holiday",
            "itinerary|trip itinerary|travel plan day by day|schedule of my journey",
            "miles|frequent flyer miles|airline reward points|air travel loyalty balance",
        ],
    ),
    "billing": (
        "customer billing and payments",
        [
            "invoice|invoice|bill we send to a client|statement of charges for a customer",
            "refund|refund|money given back to a buyer|reimbursement to the customer",
            "payment_method|stored payment method|saved card on file|way the customer pays",
            "subscription|subscription plan|recurring membership fee|monthly package",
            "credit_note|credit note|billing correction document|negative invoice",
            "late_fee|late payment fee|penalty for paying after the due date|overdue charge",
            "billing_address|billing address|address printed on invoices|where bills are sent",
            "tax_receipt|tax receipt|proof of tax paid|VAT document",
            "coupon|discount coupon|voucher code for money off|promotional discount",
            "dispute|payment dispute|chargeback claim|contested card charge",
        ],
    ),
    "hr": (
        "human resources for employees",
        [
            "leave|vacation leave|days off work|holiday time away from the job",
            "payroll|payroll run|salary payout|monthly wages for staff",
            "job_opening|job opening|vacant position|role we are hiring for",
            "onboarding|employee onboarding|first-week setup for a new hire|welcoming a recruit",
            "review|performance review|annual appraisal|evaluation of a worker",
            "expense|expense claim|reimbursement for work costs|receipts I paid for the company",
            "benefits|benefits enrollment|staff perks sign-up|health and pension selection",
            "timesheet|timesheet|hours worked log|record of working time",
            "training|training course|staff learning program|professional development class",
            "exit_interview|exit interview|conversation with a departing employee|offboarding talk",
        ],
    ),
    "it": (
        "internal IT operations",
        [
            "password|user password|login credentials|secret to sign in",
            "server|application server|production machine|host running the backend",
            "vpn|VPN access|remote network tunnel|secure connection from home",
            "laptop|company laptop|work notebook computer|portable PC for staff",
            "license|software license|seat for a paid program|application entitlement",
            "mailbox|email mailbox|inbox for a colleague|mail account",
            "firewall|firewall rule|network port opening|traffic filter",
            "backup|backup job|nightly data copy|snapshot of our files",
            "outage|network outage ticket|internet down report|connectivity failure",
            "database|database instance|SQL store|data server for the app",
        ],
    ),
    "farm": (
        "agriculture and farm management",
        [
            "field|crop field|plot of farmland|acreage under cultivation",
            "irrigation|irrigation schedule|watering timetable for crops|sprinkler plan",
            "harvest|harvest|crop gathering|bringing in the yield",
            "soil_sample|soil sample|dirt analysis|ground nutrient test",
            "tractor|tractor|farm machine|heavy field vehicle",
            "fertilizer|fertilizer order|manure and nutrients purchase|plant feed delivery",
            "herd|livestock herd|cattle group|animals on the ranch",
            "greenhouse|greenhouse|glass house for plants|indoor growing structure",
            "seeds|seed inventory|stock of planting seeds|grain for sowing",
            "pest|pest alert|insect infestation warning|bug outbreak on crops",
        ],
    ),
    "health": (
        "patient healthcare",
        [
            "appointment|doctor appointment|visit with a physician|consultation slot at the clinic",
            "prescription|prescription|medicine order from a doctor|drug refill",
            "lab_test|lab test|blood work|laboratory analysis",
            "vaccination|vaccination|immunization shot|jab",
            "record|medical record|patient file|health history",
            "claim|health insurance claim|medical cost reimbursement|insurer payout for treatment",
            "bed|hospital bed|ward place for a patient|inpatient spot",
            "therapy|therapy session|counselling hour|talk with a therapist",
            "donation|blood donation|giving blood|donor appointment at the blood bank",
            "symptoms|symptom check|assessment of how I feel|triage questionnaire",
        ],
    ),
    "shop": (
        "an online store",
        [
            "cart|shopping cart|basket of items to buy|checkout bag",
            "listing|product listing|item page in the catalog|article for sale",
            "order|customer order|purchase someone made|things a buyer bought",
            "return|return label|slip to send goods back|shipping label for a return",
            "gift_card|gift card|present voucher|prepaid store card",
            "wishlist|wishlist|saved items for later|list of things I'd like",
            "product_review|product review|customer rating of an item|star rating comment",
            "pickup|in-store pickup|collect the purchase at the shop|click and collect",
            "price_alert|price alert|notification when something gets cheaper|price drop watch",
            "points|loyalty points|shopper rewards balance|store bonus points",
        ],
    ),
    "logistics": (
        "freight and logistics",
        [
            "shipment|shipment|consignment of goods|load being transported",
            "warehouse_slot|warehouse slot|storage bay in the depot|space on a rack",
            "route|delivery route|path the van drives|driver's stops",
            "container|freight container|shipping box on the vessel|intermodal unit",
            "customs|customs declaration|border paperwork for goods|import filing",
            "pallet|pallet|wooden skid of goods|stacked load",
            "courier|courier pickup|parcel collection by a messenger|driver collecting a package",
            "stocktake|inventory count|stock tally|counting what's on the shelves",
            "fleet|truck fleet|our lorries|vehicles that haul cargo",
            "tracking|tracking number|parcel trace code|shipment reference",
        ],
    ),
    "bank": (
        "retail banking",
        [
            "transfer|bank transfer|wire of money to another account|sending funds",
            "savings|savings account|deposit account earning interest|nest egg account",
            "loan|loan application|request to borrow money|credit request",
            "card|credit card|plastic for purchases|card for paying on credit",
            "trade|stock trade|share purchase on the market|equity order",
            "fx|currency exchange|swap of dollars into euros|foreign money conversion",
            "mortgage|mortgage|home loan|house financing",
            "fraud|fraud alert|suspicious transaction warning|possible scam on my account",
            "statement|account statement|monthly bank summary|record of transactions",
            "debit|direct debit|automatic withdrawal mandate|recurring bank collection",
        ],
    ),
    "school": (
        "education and schooling",
        [
            "enrollment|course enrollment|sign-up for a class|registration in a module",
            "exam|exam|final test|assessment paper",
            "homework|homework assignment|take-home task|coursework",
            "grade|student grade|mark a pupil received|test score",
            "timetable|class timetable|lesson schedule|when lectures happen",
            "library_book|library book|borrowed novel|loaned textbook",
            "scholarship|scholarship|study grant|tuition funding award",
            "lecture|lecture recording|video of a class|recorded talk",
            "tutoring|tutor session|private lesson|one-to-one coaching",
            "diploma|diploma|graduation certificate|degree document",
        ],
    ),
    "property": (
        "real estate and rentals",
        [
            "listing|property listing|house for sale advert|home on the market",
            "viewing|apartment viewing|flat tour|visit to see the home",
            "lease|rental lease|tenancy agreement|renting contract",
            "maintenance|maintenance request|repair job in the building|fix-it request",
            "screening|tenant screening|background check on a renter|applicant vetting",
            "valuation|property valuation|home appraisal|estimate of what the house is worth",
            "rent|rent payment|monthly housing payment|money owed to the landlord",
            "open_house|open house|public home showing|weekend house viewing event",
            "meter|utility meter|consumption counter in the flat|reading device",
            "parking|parking space|garage spot|place to leave my car",
        ],
    ),
    "marketing": (
        "marketing and promotion",
        [
            "campaign|email campaign|mass mailing to customers|promotional blast",
            "post|social media post|tweet or instagram update|content on our social channels",
            "ad_budget|advertising budget|spend on ads|money for paid media",
            "landing_page|landing page|signup web page for a campaign|promo microsite",
            "newsletter|newsletter|periodic bulletin to subscribers|monthly digest email",
            "survey|customer survey|questionnaire for buyers|feedback poll",
            "influencer|influencer partnership|creator collaboration|sponsored blogger deal",
            "promo_code|promo code|marketing discount word|special offer code",
            "brand_asset|brand asset|logo and style files|corporate design material",
            "webinar|webinar|online seminar|live web presentation",
        ],
    ),
    "legal": (
        "legal affairs",
        [
            "contract|contract|binding agreement|deal paperwork",
            "nda|non-disclosure agreement|confidentiality pact|secrecy agreement",
            "trademark|trademark|registered brand name|protected logo",
            "filing|court filing|document lodged with the judge|submission to the tribunal",
            "case|legal case|lawsuit|litigation matter",
            "audit|compliance audit|regulatory inspection|rule-conformance check",
            "poa|power of attorney|authority to act for someone|legal proxy",
            "patent|patent|invention protection|intellectual property claim",
            "will|last will|testament|inheritance instructions",
            "mediation|dispute mediation|settlement talks with a neutral party|arbitration session",
        ],
    ),
    "food": (
        "restaurants and food",
        [
            "reservation|table reservation|place to eat tonight|booked dinner table",
            "delivery|food delivery order|takeaway brought to my door|meal courier order",
            "menu_item|menu item|dish on the menu|meal we serve",
            "catering|catering event|food for a big party|buffet service",
            "recipe|recipe|cooking instructions|how to prepare a dish",
            "pantry|kitchen inventory|ingredients in stock|fridge and pantry supplies",
            "restaurant_review|restaurant review|diner rating|opinion about a place to eat",
            "chef_shift|chef shift|cook's working hours|kitchen rota slot",
            "allergy|allergy note|food intolerance record|ingredients a guest cannot eat",
            "meal_plan|meal plan|weekly menu of meals|diet schedule",
        ],
    ),
    "media": (
        "media and entertainment",
        [
            "movie|movie ticket|cinema seat|film screening pass",
            "concert|concert|live music show|gig",
            "playlist|streaming playlist|list of songs to stream|music queue",
            "podcast|podcast episode|audio show installment|radio-style episode",
            "video|video upload|clip posted online|footage I publish",
            "album|music album|record release|LP",
            "tournament|game tournament|esports competition|gaming championship",
            "photos|photo album|collection of pictures|gallery of snapshots",
            "book_club|book club|reading group|literature circle",
            "exhibition|art exhibition|gallery show|museum display",
        ],
    ),
    "auto": (
        "cars and vehicles",
        [
            "service|car service appointment|garage maintenance visit|vehicle check-up",
            "tires|tire change|swap of wheels|new rubber for the car",
            "registration|vehicle registration|license plate paperwork|car papers at the DMV",
            "car_wash|car wash|vehicle cleaning|getting the auto washed",
            "fuel_card|fuel card|petrol payment card|gas station card",
            "roadside|roadside assistance|breakdown help|tow when stranded",
            "test_drive|test drive|trial ride in a new model|dealer demo drive",
            "parking_ticket|parking ticket|fine for parking|citation on the windshield",
            "recall|vehicle recall|manufacturer defect campaign|safety fix notice",
            "charging|EV charging session|electric car charge|plug-in at a charger",
        ],
    ),
    "utility": (
        "household utilities",
        [
            "power_bill|electricity bill|power invoice|charge for kilowatt hours",
            "solar|solar panel installation|rooftop photovoltaics|sun power setup",
            "gas_reading|gas meter reading|heating gas consumption figure|gas counter value",
            "blackout|power outage|electricity cut|lights went out",
            "leak|water leak|burst pipe|dripping plumbing",
            "energy_audit|energy audit|home efficiency inspection|insulation assessment",
            "thermostat|smart thermostat|connected temperature controller|heating dial app",
            "heating|heating repair|boiler fix|broken radiator job",
            "tariff|tariff plan|energy price contract|rate plan for utilities",
            "broadband|internet connection|home broadband|wifi line",
        ],
    ),
    "support": (
        "customer support",
        [
            "ticket|support ticket|help desk case|request for assistance",
            "chat|live chat|real-time conversation with an agent|messaging with support",
            "callback|callback request|phone call back from an agent|ring me back",
            "complaint|complaint|grievance|formal expression of dissatisfaction",
            "faq|FAQ article|help page answer|self-service explanation",
            "feedback|feedback form|comments from users|suggestion box entry",
            "warranty|warranty claim|guarantee repair request|defect covered by guarantee",
            "escalation|escalation|handing the case to a senior agent|raising to management",
            "csat|satisfaction score|how happy customers are|CSAT rating",
            "kb_entry|knowledge base entry|internal help document|support wiki page",
        ],
    ),
    "security": (
        "physical security",
        [
            "badge|door access badge|entry pass for the office|ID card for the turnstile",
            "camera|CCTV camera|surveillance video|security cam",
            "incident|security incident|breach report|safety event",
            "visitor|visitor pass|guest entry permit|temporary pass for a visitor",
            "alarm|alarm system|intruder siren|burglar alert setup",
            "background_check|background check|vetting of a candidate|criminal record screening",
            "patrol|security patrol|guard rounds|watchman tour",
            "lost_item|lost and found item|misplaced belonging|property someone left behind",
            "key_card|hotel-style key card|magnetic room key|electronic door key",
            "token|two-factor token|one-time code device|authenticator for login",
        ],
    ),
    "events": (
        "company events and gatherings",
        [
            "meeting|team meeting|group sync with colleagues|staff get-together",
            "room|conference room|meeting space|boardroom booking",
            "offsite|company offsite|team retreat|trip away with coworkers",
            "party|birthday party|celebration for someone's birthday|bday bash",
            "wedding|wedding|marriage ceremony|nuptials",
            "workshop|workshop|hands-on session|practical training day",
            "rsvp|RSVP|reply to an invitation|attendance confirmation",
            "venue|event venue|hall for the function|location for the gathering",
            "speaker|speaker slot|talk on the agenda|presentation time for a guest",
            "ticket_sale|event ticket sale|admission sales|selling entry passes",
        ],
    ),
}

# action: (description template, plain goal, [paraphrased goals]); {e} canonical entity,
# {p} the entity as the goal names it. Plain goals reuse the description's verb.
ACTIONS: dict[str, tuple[str, str, list[str]]] = {
    "create": (
        "Create a new {e}",
        "create a new {p}",
        ["set up a new {p}", "I'd like to start a brand-new {p}", "make me a {p}"],
    ),
    "cancel": (
        "Cancel an existing {e}",
        "cancel the {p}",
        ["call off the {p}", "I no longer want my {p}, abort it", "scrap the {p}"],
    ),
    "update": (
        "Update the details of an existing {e}",
        "update the details of the {p}",
        ["change some details on the {p}", "edit the {p}", "amend the info of my {p}"],
    ),
    "status": (
        "Check the current status of a {e}",
        "check the status of the {p}",
        ["where does my {p} stand right now?", "what is happening with the {p}?", "track the {p}"],
    ),
    "list": (
        "List all {e} records of an account",
        "list all my {p} records",
        ["show me every {p} I have", "give me an overview of all my {p} entries"],
    ),
    "delete": (
        "Permanently delete a {e}",
        "delete the {p}",
        ["erase the {p} for good", "wipe out the {p} completely", "get rid of the {p} forever"],
    ),
    "approve": (
        "Approve a pending {e}",
        "approve the {p}",
        ["sign off on the {p}", "give the green light to the waiting {p}", "okay the {p}"],
    ),
    "schedule": (
        "Schedule a {e} for a future date",
        "schedule the {p} for a later date",
        ["plan the {p} for later", "put the {p} on the calendar for next month"],
    ),
    "notify": (
        "Send a reminder notification about a {e}",
        "send a reminder about the {p}",
        ["remind people about the {p}", "ping everyone regarding the {p}"],
    ),
    "report": (
        "Generate an analytics report about {e} activity",
        "generate a report about {p} activity",
        ["produce statistics about {p} activity", "give me numbers and trends on {p}"],
    ),
}
# How a goal differs from the event's description: its action words, its entity words, or both.
PARAPHRASE_MODES = ("action", "entity", "both")
ACTIONS_PER_ENTITY = 5
_PREFIXES = ("", "Please ", "Can you ", "Hey, ", "I need you to ")


@dataclass(frozen=True)
class GoalQuery:
    """A user goal, the one event that serves it, and which words were paraphrased."""

    text: str
    event_name: str
    paraphrased: str


def _payload_schema(entity: str, action: str) -> dict[str, Any]:
    properties: dict[str, Any] = {
        f"{entity}_id": {"type": "string", "description": f"Identifier of the {entity}"}
    }
    required = [f"{entity}_id"]
    if action == "create":
        properties = {
            "owner": {"type": "string", "description": "Who it is for"},
            "notes": {"type": "string"},
        }
        required = ["owner"]
    elif action == "cancel":
        properties["reason"] = {"type": "string", "description": "Why it is cancelled"}
    elif action == "update":
        properties["changes"] = {"type": "object", "description": "Fields to change"}
        required.append("changes")
    elif action == "list":
        properties = {
            "account_id": {"type": "string"},
            "state": {"type": "string", "enum": ["open", "closed", "all"], "default": "all"},
        }
        required = ["account_id"]
    elif action == "schedule":
        properties["date"] = {"type": "string", "format": "date"}
        required.append("date")
    elif action == "notify":
        properties["recipients"] = {"type": "array", "items": {"type": "string"}, "minItems": 1}
        required.append("recipients")
    elif action == "report":
        properties = {
            "period": {"type": "string", "enum": ["week", "month", "quarter", "year"]},
        }
        required = ["period"]
    return {"type": "object", "properties": properties, "required": required}


def generate(seed: int = 7) -> tuple[list[EventDefinition], list[GoalQuery]]:
    """The synthetic registry (1,000 events) and one paraphrased goal per event."""
    rng = random.Random(seed)
    events: list[EventDefinition] = []
    queries: list[GoalQuery] = []
    for domain, (about, entities) in DOMAINS.items():
        for line in entities:
            slug, canonical, *paraphrases = line.split("|")
            for action in rng.sample(sorted(ACTIONS), ACTIONS_PER_ENTITY):
                template, plain, goals = ACTIONS[action]
                name = f"{domain}.{slug}.{action}"
                events.append(
                    EventDefinition(
                        event_name=name,
                        topic=EventTopic.ACTION_REQUESTS,
                        description=f"{template.format(e=canonical)} ({about}).",
                        payload_schema=_payload_schema(slug, action),
                        response_schema={
                            "type": "object",
                            "properties": {"status": {"type": "string"}},
                        },
                    )
                )
                mode = rng.choice(PARAPHRASE_MODES)
                goal = plain if mode == "entity" else rng.choice(goals)
                entity = canonical if mode == "action" else rng.choice(paraphrases)
                text = goal.format(p=entity)
                if not text.endswith("?"):  # questions stand alone; requests get a lead-in
                    text = rng.choice(_PREFIXES) + text
                queries.append(
                    GoalQuery(text=text[0].upper() + text[1:], event_name=name, paraphrased=mode)
                )
    return events, queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--show", type=int, default=10, help="how many samples to print")
    args = parser.parse_args()
    events, queries = generate(args.seed)
    print(f"{len(events)} events in {len(DOMAINS)} domains, {len(queries)} goal queries")
    for mode in PARAPHRASE_MODES:
        count = sum(1 for q in queries if q.paraphrased == mode)
        print(f"  {count} goals paraphrase the {mode if mode != 'both' else 'action and entity'}")
    by_name = {event.event_name: event for event in events}
    for query in random.Random(args.seed).sample(queries, args.show):
        event = by_name[query.event_name]
        print(
            f"- [{query.paraphrased}] {query.text!r}\n"
            f"    -> {event.event_name}: {event.description}"
        )


if __name__ == "__main__":
    main()
