"""The local planner writes correct English: "an analytics dashboard", "a user", "an API".

``domain.english.indefinite_article`` picks "a" or "an" by the sound the next word starts
with; the planner uses it wherever an article comes before a word it does not know in advance
(the kind of software, the subject). The plans of every fixture goal, and of goals written for
this test, are searched for an article that does not fit its word and for slips seen before.
"""

import re

import pytest

from missionctl.domain.english import indefinite_article, with_article, with_the
from missionctl.planning import build_local_plan
from missionctl.planning.kinds import GENERIC, KINDS
from missionctl.planning.signals import TECHNOLOGIES
from missionctl.schemas.plans import PlanDraft
from tests.planning.helpers import GOALS, SEED_000, SEED_001, mission

# Goals not in the fixtures, picked for their articles: vowel sounds, initialisms, numbers.
OWN_GOALS = [
    "Build an internal tool for HR onboarding with an approval flow",
    "Build an analytics dashboard for a SaaS startup's activation funnel",
    "Create an API for an online bookstore with orders and an inventory",
    "Build a UI kit for an e-commerce site with an accessible date picker",
    "Write an SDK for an IoT hub that uploads readings every 8 hours",
    "Build an ETL job that loads an S3 bucket into an Oracle database",
    "Add an OAuth login to an existing Express app",
    "Migrate a MySQL database to PostgreSQL with an 11-minute maintenance window",
    "Build a unified inbox for a European university's support team",
    "Train an XGBoost model that predicts an hourly demand forecast",
]

# Words whose article is known, including every kind of exception the rules handle.
EXPECTED = {
    "analytics dashboard": "an",
    "internal tool": "an",
    "infrastructure as code": "an",
    "integration / API gateway": "an",
    "API / backend service": "an",
    "user": "a",
    "UI": "a",
    "URL shortener": "a",
    "unique key": "a",
    "unified inbox": "a",
    "university": "a",
    "usage report": "a",
    "utility": "a",
    "unindexed column": "an",
    "umbrella": "an",
    "update": "an",
    "European bank": "a",
    "one-click disable": "a",
    "once-a-day job": "a",
    "hour": "an",
    "hourly job": "an",
    "honest answer": "an",
    "heir": "an",
    "house": "a",
    "SDK": "an",
    "HTTP client": "an",
    "MVP": "an",
    "LLM": "an",
    "S3 bucket": "an",
    "SQS queue": "an",
    "XGBoost model": "an",
    "OAuth app": "an",
    "OIDC provider": "an",
    "nRF52-class MCU": "an",
    "A/B test": "an",
    "x": "an",
    "C": "a",
    "REST API": "a",
    "RESTful API": "a",
    "SQL query": "a",
    "SQLite file": "a",
    "YAML file": "a",
    "JSON document": "a",
    "UNIX socket": "a",
    "OWASP review": "an",
    "BLE device": "a",
    "CSV file": "a",
    "GraphQL gateway": "a",
    "SaaS startup": "a",
    "iOS app": "an",
    "IoT hub": "an",
    "eBPF probe": "an",
    "e-commerce site": "an",
    "Oracle database": "an",
    "Express app": "an",
    "8-hour window": "an",
    "11-minute window": "an",
    "18-month plan": "an",
    "80 % target": "an",
    "800 ms budget": "an",
    "1 s timeout": "a",
    "110 ms budget": "a",
    "11000 rows": "an",
    "1100 rows": "a",
    "web application": "a",
    "migration": "a",
}


@pytest.mark.parametrize("phrase", list(EXPECTED))
def test_the_article_fits_the_sound(phrase: str) -> None:
    assert indefinite_article(phrase) == EXPECTED[phrase]
    assert with_article(phrase) == f"{EXPECTED[phrase]} {phrase}"


def test_the_definite_article_is_not_doubled() -> None:
    assert with_the("click analytics") == "the click analytics"
    assert with_the("the core of the API") == "the core of the API"
    assert with_the("A/B tests") == "the A/B tests"  # "A/B" is a name, not an article


def test_every_kind_and_technology_of_the_planner_data_gets_its_article() -> None:
    """Each label and technology name, exhaustively, against the letter it is said with."""
    phrases = [k.label for k in [*KINDS, GENERIC]] + [t.name for t in TECHNOLOGIES]
    assert len(phrases) > 100
    wrong = []
    for phrase in phrases:
        word = re.search(r"[A-Za-z0-9]+", phrase)
        assert word is not None, phrase
        if _spoken_vowel(word.group(0)) != (indefinite_article(phrase) == "an"):
            wrong.append(with_article(phrase))
    assert wrong == []


# How each first word of the planner data is said, when its letter does not say so.
_SAID_WITH_A_CONSONANT = {"SQL", "SQLite", "SAML", "YAML", "REST"}
_SAID_WITH_A_VOWEL_LETTER = re.compile(r"^(?:[AEFHILMNORSX][A-Z0-9]|nR|XG|[AEIOU]$)")


def _spoken_vowel(word: str) -> bool:
    """An independent reading of the planner's words: letters by name, else the first letter."""
    if word in _SAID_WITH_A_CONSONANT:
        return False
    if word.isdigit():
        return word.startswith("8")
    if _SAID_WITH_A_VOWEL_LETTER.match(word):
        return True
    if word[:2].isupper() or (word[:1].isupper() and word[1:2].isdigit()):
        return False  # a letter said with a consonant: "CSV", "BLE", "GCP", "PHP"
    return word[0].lower() in "aeiou" and not word.lower().startswith(("us", "uni", "eu"))


def _plans() -> list[PlanDraft]:
    inputs = [mission(goal) for goal in GOALS + OWN_GOALS] + [SEED_000, SEED_001]
    return [build_local_plan(planning) for planning in inputs]


def _texts(draft: PlanDraft) -> list[str]:
    texts = [draft.summary, *(r.text for r in draft.requirements)]
    for task in draft.tasks:
        texts += [task.title, task.description, *task.acceptance]
    for risk in draft.risks:
        texts += [risk.title, risk.description, risk.mitigation]
    for decision in draft.decisions:
        texts += [decision.title, decision.choice, *decision.reasons, *decision.trade_offs]
        texts += decision.alternatives
    texts += [n.text for n in draft.next_steps]
    texts += [f"{p.name}: {p.goal}" for p in draft.phases]
    return texts


SLIPS = [
    r"\ba (?:analytics|internal|integration|infrastructure|API|SDK|MVP|LLM|hour)\b",
    r"\ban (?:user|URL|UI|unique|one\b)",
    r"\bmust requirements\b",
    r"\b(the|a|an) \1\b",
    r"\bthe (?:a|an)\b",
    r"\s[,.;:]",
    r"\.\.(?!\.)",
]


def test_no_plan_of_any_goal_has_an_article_that_does_not_fit() -> None:
    wrong: list[str] = []
    checked = 0
    for draft in _plans():
        for text in _texts(draft):
            for match in re.finditer(r"(?<![\w/-])(a|an|A|An) ([\w][\w'./-]*)", text):
                checked += 1
                article, word = match.group(1).lower(), match.group(2)
                if article != indefinite_article(word):
                    wrong.append(text[max(0, match.start() - 30) : match.end() + 20])
            wrong += [f"{pattern}: {text}" for pattern in SLIPS if re.search(pattern, text, re.I)]
    assert checked > 1000  # the search looked at real text
    assert sorted(set(wrong)) == []


def test_the_summary_names_the_kind_with_its_article() -> None:
    (tool,) = [build_local_plan(mission("Build an internal tool that tracks vendor contracts"))]
    assert "this mission reads as an internal tool — " in tool.summary
    (cockpit,) = [build_local_plan(mission("Build an analytics dashboard of weekly signups"))]
    assert "reads as an analytics dashboard" in cockpit.summary
    reasons = [r for d in cockpit.decisions for r in d.reasons]
    assert any(r.startswith("Planner default for an analytics dashboard;") for r in reasons)
