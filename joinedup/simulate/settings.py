"""Documented simulator settings.

Every behaviour the simulator reproduces is a field here with its default and where the figure comes from,
so that a council can replace a default with its own measurement and re-run. Shares are probabilities.
Figures marked *issue #2* are those the product brief takes from published customer-service research;
figures marked *assumed* are our own modelling choices, kept deliberately simple.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

CHANNELS: tuple[str, ...] = (
    "phone",
    "email",
    "webchat",
    "social",
    "sms",
    "letter",
    "web_form",
    "face_to_face",
)

SERVICES: tuple[str, ...] = (
    "council_tax",
    "waste",
    "housing_repairs",
    "benefits",
    "parking",
    "planning",
    "adult_social_care",
    "highways",
    "environmental_health",
    "general",
)


@dataclass(frozen=True)
class Settings:
    """Behavioural parameters of the simulated council and its citizens."""

    # --- population -------------------------------------------------------------------------------------
    # Visitors, new residents and people the CRM never captured (assumed).
    share_not_in_register: float = 0.08
    # About 1 in 4 people use social media for customer service (issue #2).
    share_social_users: float = 0.25
    # Of social users, the share on Twitter/X rather than Facebook (assumed).
    share_social_on_x: float = 0.45
    # Register email is out of date (the person now uses another) (assumed).
    share_changed_email: float = 0.10
    # Person moved within the area since the register was last updated (assumed).
    share_changed_address: float = 0.05
    # Couples sharing one email address (assumed).
    share_household_shared_email: float = 0.10
    # Households with a landline that every member may give as their phone (assumed).
    share_household_landline: float = 0.35
    # Calls with the caller ID withheld (assumed; UK contact-centre CLI withheld rates of 5-10%).
    share_withheld_cli: float = 0.08
    # Per-field chance of a typo where a person or an agent types a name (assumed).
    typo_rate: float = 0.03
    # Social handles that carry no name evidence at all ("sunnydaze77") (assumed).
    share_nameless_handles: float = 0.25
    # Register holds a verified social handle for this share of social users (assumed).
    share_known_handles: float = 0.10

    # --- demand -----------------------------------------------------------------------------------------
    # Needs (journeys) per person per year, mean of a gamma-distributed rate (assumed; gives a council of
    # 500k about 3 million contacts a year, in line with large English unitary councils).
    needs_per_person_year: float = 3.0
    needs_rate_shape: float = 1.5
    # Share of needs by service (assumed, shaped on typical English council contact-centre queues).
    service_mix: dict[str, float] = field(
        default_factory=lambda: {
            "council_tax": 0.24,
            "waste": 0.22,
            "housing_repairs": 0.12,
            "benefits": 0.10,
            "parking": 0.08,
            "planning": 0.04,
            "adult_social_care": 0.06,
            "highways": 0.07,
            "environmental_health": 0.04,
            "general": 0.03,
        }
    )
    # First-contact channel mix for a UK council, text messaging popular (issue #2; assumed shares).
    # Social is only open to social users, whose mix shifts towards it (see social_first_share).
    channel_mix: dict[str, float] = field(
        default_factory=lambda: {
            "phone": 0.30,
            "web_form": 0.20,
            "email": 0.13,
            "sms": 0.16,
            "webchat": 0.07,
            "face_to_face": 0.05,
            "letter": 0.03,
            "social": 0.04,
        }
    )
    # Share of a social user's needs that start on social media (assumed).
    social_first_share: float = 0.30
    # Out of opening hours, how much less likely people are to try a staffed channel first (assumed).
    out_of_hours_staffed_factor: float = 0.25
    # When the next step is a call or a chat and the line is closed, the share who wait for it to open rather
    # than try anyway (assumed).
    wait_for_opening: float = 0.8

    # --- opening hours (local time, Monday=0) -----------------------------------------------------------
    phone_hours: tuple[float, float] = (8.5, 17.0)
    webchat_hours: tuple[float, float] = (9.0, 17.0)
    counter_hours: tuple[float, float] = (9.0, 16.5)
    social_team_hours: tuple[float, float] = (8.5, 17.0)
    back_office_hours: tuple[float, float] = (9.0, 17.0)

    # --- phone ------------------------------------------------------------------------------------------
    # Mean queue wait at normal load, seconds; staffing makes Monday mornings and lunchtimes slower (assumed).
    phone_mean_wait_s: float = 70.0
    # Mean caller patience before abandoning, seconds (assumed).
    phone_mean_patience_s: float = 300.0
    phone_mean_talk_s: float = 330.0
    # Callers try at most twice before switching channel or giving up; a fifth try only once (issue #2).
    phone_share_single_try: float = 0.20
    # After the last failed try: share who switch channel rather than give up (assumed).
    phone_switch_after_fail: float = 0.75

    # --- social -----------------------------------------------------------------------------------------
    # 70% expect a social reply within 15 minutes; Twitter users expect one within 2 hours, evenings and
    # weekends included (issue #2).
    social_share_expect_15min: float = 0.70
    social_x_expectation_minutes: float = 120.0
    # Median reply delay while the social team is on shift, minutes (assumed; staffing-driven).
    social_median_reply_min: float = 35.0
    # Chance a post is never answered: in hours, and out of hours (assumed).
    social_no_reply_in_hours: float = 0.08
    social_no_reply_out_of_hours: float = 0.45
    # Unanswered posts are followed by a phone call or email within hours (issue #2): share who do, and the
    # mean delay in hours.
    social_switch_if_unanswered: float = 0.80
    social_switch_mean_hours: float = 2.5
    # Social replies often redirect ("please call us"), so few needs resolve there (assumed).
    social_resolve_share: float = 0.30

    # --- web self-service -------------------------------------------------------------------------------
    # Failed web self-service leads to a call (issue #2): failure rate and share who then call (assumed).
    web_failure_rate: float = 0.15
    web_call_after_failure: float = 0.70

    # --- other channels (assumed) -----------------------------------------------------------------------
    webchat_mean_wait_s: float = 75.0
    webchat_mean_patience_s: float = 150.0
    email_median_reply_working_hours: float = 12.0
    letter_reply_working_days: tuple[int, int] = (5, 15)
    sms_median_reply_min: float = 90.0
    counter_mean_wait_min: float = 12.0
    counter_mean_patience_min: float = 60.0

    # --- resolution and failure demand ------------------------------------------------------------------
    # First-contact resolution by channel once a human handled the contact (assumed).
    resolve_share: dict[str, float] = field(
        default_factory=lambda: {
            "phone": 0.68,
            "email": 0.55,
            "webchat": 0.60,
            "social": 0.30,
            "sms": 0.60,
            "letter": 0.75,
            "web_form": 0.80,
            "face_to_face": 0.82,
        }
    )
    # An unresolved request brings the citizen back (failure demand) with this chance, after a delay of a
    # few days, inside the 7-day journey gap (assumed).
    chase_if_unresolved: float = 0.65
    chase_days: tuple[float, float] = (1.0, 5.5)
    # A journey never has more contacts than this (assumed).
    max_contacts_per_journey: int = 8

    def to_dict(self) -> dict:
        return asdict(self)
