"""One reading of a mission: subject, features, people, records, kind, stack, scale, context."""

import re

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from missionctl.reading import Entity, GoalReading, language_name, read_goal
from missionctl.reading.language import find_language
from missionctl.reading.vocabulary import (
    EntitySpec,
    Languages,
    TechnologySpec,
    Vocabulary,
    vocabulary,
)
from tests.planning.helpers import GOALS

BAKERY = (
    "Build an inventory management system for a small bakery with supplier orders and expiry alerts"
)
S3_SYNC = "Create a Rust command-line tool that syncs two S3 buckets incrementally"
FRENCH = "Créer une application web pour gérer les réservations d'un restaurant"

# Verbs as the fixture goals use them: none may name a record.
GOAL_VERBS = {
    "syncs", "sync", "converts", "ingests", "builds", "summarizes", "files", "tracks", "warns",
    "blocks", "shows", "federates", "backs", "restores", "accepts", "generates", "runs",
    "returns", "build", "create", "write", "add", "migrate", "harden", "train", "deploy",
}  # fmt: skip
LY_NOUNS = {"anomaly", "supply", "family", "assembly", "reply"}


def read(goal: str, *constraints: str, repo_context: str = "") -> GoalReading:
    return read_goal(title=goal[:80], goal=goal, constraints=constraints, repo_context=repo_context)


def entity(reading: GoalReading, name: str) -> Entity:
    found = reading.entity(name)
    assert found is not None, (name, [e.name for e in reading.entities])
    return found


def nonsense_in(reading: GoalReading) -> list[str]:
    """Entity names that are a verb, an adverb or a technology (by their head word)."""
    technologies = {t.name.lower() for t in vocabulary().technologies}
    wrong = []
    for e in reading.entities:
        words = e.name.lower().split()
        if words[-1] in GOAL_VERBS:
            wrong.append(f"{e.name}: a verb")
        if words[-1].endswith("ly") and words[-1] not in LY_NOUNS:
            wrong.append(f"{e.name}: an adverb")
        if e.name.lower() in technologies or words[-1] in technologies:
            wrong.append(f"{e.name}: a technology")
    return wrong


# -- the bakery --


def test_the_bakery_reads_as_an_inventory_of_products_ingredients_and_batches() -> None:
    reading = read(BAKERY)
    assert reading.subject == "inventory management system"
    assert reading.purpose == "small bakery"
    assert reading.subject_phrase == "inventory management system for a small bakery"
    names = {e.name for e in reading.entities}
    assert {"Product", "Ingredient", "Batch", "Supplier", "Purchase order"} <= names
    assert "Stock movement" in names
    # "supplier orders" are purchase orders, and "expiry alerts" come from the batches.
    assert "Order" not in names and "Alert" not in names
    expiry = entity(reading, "Batch").attribute("expiry_date")
    assert expiry is not None and expiry.type == "date"
    supplier = entity(reading, "Purchase order").attribute("supplier_id")
    assert supplier is not None and supplier.ref == "Supplier"
    assert entity(reading, "Purchase order").class_name == "PurchaseOrder"
    assert entity(reading, "Stock movement").table == "stock_movements"
    assert [(d.phrase, d.entity, d.attribute) for d in reading.derived] == [
        ("expiry alerts", "Batch", "expiry_date")
    ]


def test_the_bakery_is_small_and_serves_its_staff_and_suppliers() -> None:
    reading = read(BAKERY)
    assert (reading.scale, reading.scale_phrase) == ("small", "small bakery")
    assert reading.actors[:2] == ("bakery staff", "suppliers")
    assert [f.text for f in reading.features] == ["supplier orders", "expiry alerts"]
    assert reading.kind == "internal_tool"
    # Nothing in the goal asks for an identity provider or single sign-on.
    assert reading.technologies == ()
    assert entity(reading, "User").origin == "sign-in"
    assert nonsense_in(reading) == []


# -- the S3 sync tool --


def test_the_s3_sync_reads_as_a_rust_cli_over_buckets_objects_and_sync_state() -> None:
    reading = read(S3_SYNC)
    assert reading.kind == "cli_tool" and "command[- ]line" in reading.kind_words
    assert reading.programming_language == "Rust"
    assert [(t.name, t.category) for t in reading.technologies] == [
        ("Rust", "language"),
        ("S3", "object_store"),
    ]
    assert [e.name for e in reading.entities] == ["Bucket", "Object", "Sync state"]
    stored = entity(reading, "Object")
    assert {"key", "etag", "size_bytes", "last_modified"} <= {a.name for a in stored.attributes}
    assert set(entity(reading, "Sync state").refs()) == {"Bucket"}
    assert nonsense_in(reading) == []
    assert not any("incrementally" in e.name.lower() for e in reading.entities)
    # A command-line tool nobody signs in to keeps no users.
    assert reading.entity("User") is None


def test_a_generic_noun_phrase_drops_its_adverbs_numbers_and_adjectives() -> None:
    reading = read("Write a command-line tool that archives three legacy mailboxes quickly")
    assert [e.name for e in reading.entities] == ["Mailbox"]
    assert entity(reading, "Mailbox").origin == "three legacy mailboxes quickly"


def test_an_infinitive_ends_the_subject_and_is_a_feature() -> None:
    reading = read("Create an iOS app to track my daily water intake")
    assert reading.subject == "iOS app" and reading.kind == "mobile_app"
    [feature] = reading.features
    assert (feature.text, feature.title, feature.action) == (
        "track my daily water intake",
        "Track my daily water intake",
        True,
    )
    assert [e.name for e in reading.entities] == ["Water intake"]


def test_things_that_happen_are_records_of_when_and_by_whom_not_names_and_states() -> None:
    reading = read_goal(
        goal="Build a Go service for a ferry operator: ticket sales, boarding scans and fares"
    )
    by_name = {e.name: e for e in reading.entities}
    scan = by_name["Boarding scan"]
    assert scan.append_only and [a.name for a in scan.attributes][:2] == [
        "scanned_at",
        "recorded_by",
    ]
    assert "sold_at" in [a.name for a in by_name["Ticket sale"].attributes]
    assert "status" in [a.name for a in by_name["Fare"].attributes]  # a thing, not an event


def test_a_devices_reading_records_what_the_goal_measures_and_no_cadence_is_a_record() -> None:
    reading = read_goal(
        goal="Write firmware for a greenhouse node: logs temperature and humidity every "
        "10 minutes and sleeps below 5 µA"
    )
    names = [e.name for e in reading.entities]
    assert "Reading" in names and not {"Minute", "Humidity", "Sleep"} & set(names)
    measured = [a.name for a in reading.entities[names.index("Reading")].attributes]
    assert measured[2:4] == ["celsius", "humidity_pct"]
    assert "sleeps below 5 µA" in reading.constraints


def test_people_a_goal_lets_act_are_actors_and_their_verbs_name_no_record() -> None:
    reading = read("Build an API that lets warehouse staff scan parcels and print shipping labels")
    assert reading.actors == ("warehouse staff",)
    assert {"Parcel", "Shipping label"} <= {e.name for e in reading.entities}
    assert nonsense_in(reading) == []


# -- context, language, vagueness --


def test_what_the_repository_context_says_exists_is_listed_as_existing() -> None:
    reading = read(
        "Add offline mode to the field inspection app",
        repo_context="The React Native app and its REST API already exist.",
    )
    assert reading.existing == ("React Native app", "REST API")
    assert reading.brownfield
    greenfield = read(GOALS[0], repo_context="Greenfield Next.js application.")
    assert greenfield.existing == () and not greenfield.brownfield


def test_an_existing_host_system_is_existing_and_brownfield() -> None:
    reading = read(GOALS[5])
    assert reading.host == "existing Django monolith"
    assert reading.existing == ("Django monolith",)
    assert reading.brownfield


def test_a_french_goal_reads_as_not_english_and_is_not_parsed_as_english() -> None:
    reading = read(FRENCH)
    assert reading.language == "fr" and not reading.english
    assert "Créer" not in reading.subject_phrase
    assert reading.features == () and reading.entities == ()
    assert not reading.vague  # judged by the clarification step, not by English rules


@pytest.mark.parametrize(
    ("goal", "language"),
    [
        ("Crear una aplicación para gestionar las reservas de un restaurante", "es"),
        ("Eine App für die Verwaltung der Mitglieder eines Vereins erstellen", "de"),
        ("!!!", "und"),
    ],
)
def test_other_languages_are_told_apart(goal: str, language: str) -> None:
    assert read(goal).language == language


@pytest.mark.parametrize("goal", ["Build a thing.", "Make an app", "Create something cool", "x"])
def test_a_goal_that_names_nothing_is_vague(goal: str) -> None:
    assert read(goal).vague


@pytest.mark.parametrize("goal", ["Build a CRM", "Build an app with offline sync", GOALS[6]])
def test_a_short_goal_that_names_something_is_not_vague(goal: str) -> None:
    assert not read(goal).vague


# -- every fixture goal --


@pytest.mark.parametrize("goal", GOALS)
def test_every_fixture_goal_reads_as_english_with_sensible_entities(goal: str) -> None:
    reading = read(goal)
    assert reading.english and not reading.vague
    assert reading.entities, goal
    assert nonsense_in(reading) == []
    present = {e.name for e in reading.entities}
    for e in reading.entities:  # relations stay inside the reading
        assert set(e.refs()) <= present, (e.name, e.refs())
    assert reading.subject and reading.subject.lower() in goal.lower()


def test_fixture_goals_read_as_their_kinds_of_software() -> None:
    kinds = [read(goal).kind for goal in GOALS]
    assert kinds[:5] == ["web_app", "api_service", "cli_tool", "data_pipeline", "mobile_app"]
    assert kinds[8] == "library" and kinds[13] == "firmware" and kinds[17] == "browser_extension"
    assert kinds[11] == "infrastructure" and kinds[14] == "docs_site"


def test_named_people_and_organisations_are_actors() -> None:
    assert read(GOALS[21]).actors == ("product leaders",)
    assert read(GOALS[1]).actors == ("clinic staff",)
    assert read(GOALS[4]).actors == ("gym members", "gym staff")


# -- technologies, signals, scale --


def test_technologies_are_read_with_versions_and_categories() -> None:
    reading = read("Migrate PostgreSQL 11 to Postgres 16 behind Redis; C++ core on AWS")
    assert [t.name for t in reading.technologies] == [
        "PostgreSQL 11",
        "PostgreSQL 16",
        "Redis",
        "C++",
        "AWS",
    ]
    assert reading.technologies[1].version == "16" and reading.technologies[1].base == "PostgreSQL"
    assert [t.name for t in reading.technologies_in("cache")] == ["Redis"]
    assert read("go live next week with a rusty old script").technologies == ()


def test_signals_carry_their_value_and_the_constraints_stating_them() -> None:
    reading = read(GOALS[0], "Launch by June 30", "Must work offline", "Budget $500 per month")
    deadline, offline, budget = (reading.signal(k) for k in ("deadline", "offline", "budget"))
    assert deadline is not None and deadline.value == "by June 30"
    assert deadline.constraints == (0,)
    assert offline is not None and offline.constraints == (1,)
    assert budget is not None and budget.value.startswith("$500")
    assert reading.signal("multi-tenant") is None


@pytest.mark.parametrize(
    ("goal", "scale", "phrase"),
    [
        ("Build a habit tracker for my own use", "single_user", "my own use"),
        ("Build a ticket system for 40 users", "small", "40 users"),
        ("Build a forum for a thousand members", "medium", "a thousand members"),
        ("Build a chat app for 5 million users", "large", "5 million users"),
        (GOALS[6], "large", "2 TB"),
        (GOALS[0], "unstated", None),
    ],
)
def test_the_scale_is_read_from_counts_and_words(goal: str, scale: str, phrase: str | None) -> None:
    reading = read(goal)
    assert (reading.scale, reading.scale_phrase) == (scale, phrase)


def test_the_cadence_is_read_when_stated() -> None:
    assert read(GOALS[3]).cadence == "nightly"
    assert read(GOALS[0]).cadence is None


# -- the reading as a value --


def test_a_reading_is_immutable_and_the_same_for_the_same_mission() -> None:
    first, second = read(BAKERY, " No downtime ", ""), read(BAKERY, "No downtime")
    assert first == second and first.constraints == ("No downtime",)
    with pytest.raises(ValidationError):
        first.subject = "something else"  # type: ignore[misc]


@settings(max_examples=60, deadline=None)
@given(
    goal=st.text(max_size=400),
    title=st.text(max_size=80),
    constraints=st.lists(st.text(max_size=80), max_size=5),
    repo_context=st.text(max_size=300),
)
def test_any_text_gets_a_reading(
    goal: str, title: str, constraints: list[str], repo_context: str
) -> None:
    reading = read_goal(goal=goal, title=title, constraints=constraints, repo_context=repo_context)
    assert reading.subject_phrase
    assert len(reading.features) <= 10 and len(reading.entities) <= 10
    assert reading == read_goal(
        goal=goal, title=title, constraints=constraints, repo_context=repo_context
    )


def test_a_huge_repository_context_is_read() -> None:
    reading = read(GOALS[0], repo_context="word " * 20_000 + "already exists")
    assert reading.existing and len(reading.existing[0]) <= 60


@pytest.mark.parametrize("unit", ["1", "a", "$", "1a", "small ", "accessib", "-."])
def test_hostile_text_at_the_largest_sizes_a_mission_allows_is_read(unit: str) -> None:
    """Runs of one character defeat a naive whole-word pattern (tried at every position)."""
    text = unit * 20_000
    reading = read_goal(
        goal=text[:4000], title=text[:200], constraints=[text[:500]] * 50, repo_context=text
    )
    assert reading.subject_phrase and len(reading.entities) <= 10


# -- the vocabularies --


def test_the_vocabularies_load_and_name_only_defined_entities() -> None:
    words = vocabulary()
    assert len(words.technologies) > 100 and len(words.entities) > 40
    names = {e.name for e in words.entities}
    for spec in words.entities:
        assert set(spec.brings) <= names
        assert {a.ref for a in spec.attributes if a.ref} <= names


def test_a_malformed_vocabulary_entry_is_refused_with_its_field() -> None:
    with pytest.raises(ValidationError, match="not a regular expression"):
        TechnologySpec(name="Broken", category="language", pattern="(")
    with pytest.raises(ValidationError, match="lower case"):
        TechnologySpec(name="Loud", category="language", pattern="Rust")
    entry = EntitySpec(
        name="Thing", words="things?", attributes=(), brings=("Nowhere",)
    ).model_dump(by_alias=True)
    data = vocabulary().model_dump(by_alias=True)
    data["entities"] = [*data["entities"], entry]
    with pytest.raises(ValidationError, match="Nowhere"):
        Vocabulary.model_validate(data)


LANGUAGES_YAML = """
min_foreign_words: 2
languages:
  en: {name: English, words: [the, a]}
  fr: {name: French, words: [le, la]}
"""


def test_the_language_lists_are_checked_when_they_are_read() -> None:
    languages = Languages.model_validate(yaml.safe_load(LANGUAGES_YAML))
    assert language_name(find_language("le la le", languages), languages) == "French"
    assert find_language("the le", languages) == "en"

    for broken, message in [
        (LANGUAGES_YAML.replace("[le, la]", "[le, a]"), "shares words"),
        (LANGUAGES_YAML.replace("[le, la]", "[Le, la]"), "lower case"),
        (LANGUAGES_YAML.replace("[the, a]", "[the, 'no', no]"), "languages.en.words"),
        (LANGUAGES_YAML.replace("  en:", "  english:"), "languages.english"),
        (LANGUAGES_YAML.replace("min_foreign_words: 2", "min_foreign_words: 0"), "min_foreign"),
    ]:
        with pytest.raises(ValidationError, match=message):
            Languages.model_validate(yaml.safe_load(broken))
    data = vocabulary().model_dump(by_alias=True)
    data["generic_words"] = ["Thing"]
    with pytest.raises(ValidationError, match="lower case"):
        Vocabulary.model_validate(data)


def test_every_entity_attribute_name_is_snake_case() -> None:
    for spec in vocabulary().entities:
        for attribute in spec.attributes:
            assert re.fullmatch(r"[a-z][a-z0-9_]*", attribute.name), (spec.name, attribute.name)


def test_a_verb_keeps_its_question_clause_as_one_feature() -> None:
    reading = read_goal(
        goal="A tool that tracks which houseplants need watering and sends a reminder each morning"
    )
    assert [f.title for f in reading.features] == [
        "Track which houseplants need watering",
        "Send a reminder each morning",
    ]
    shown = read_goal(goal="Build a dashboard that shows which builds failed and when")
    assert [f.title for f in shown.features] == ["Show which builds failed"]


@pytest.mark.parametrize(
    ("goal", "kind"),
    [
        ("Java Spring Boot service for a public library's book loans", "api_service"),
        ("A booking app for the city library's study rooms", "web_app"),
        ("A Go service that handles Stripe webhooks for our SaaS billing", "api_service"),
        ("Go tracker for pet adoptions at an animal shelter", "internal_tool"),
        ("A Django web shop for handmade candles", "web_app"),
        ("A C# desktop app for a dental clinic's appointments", "desktop_app"),
        ("A booking portal for tour operators in Lisbon", "web_app"),
        ("Write a Rust library for parsing GPX tracks", "library"),
        ("Build a Kotlin Wear OS app for lifeguards to log rescues", "mobile_app"),
        ("A smartwatch app that counts laps for open-water swimmers", "mobile_app"),
    ],
)
def test_kind_words_are_read_in_context(goal: str, kind: str) -> None:
    assert read(goal).kind == kind


@pytest.mark.parametrize(
    ("goal", "subject", "descriptor"),
    [
        (
            "Build Mission Control as a live orchestration dashboard for AI agents",
            "Mission Control",
            "live orchestration dashboard for AI agents",
        ),
        (
            "Create Harbor as a self-hosted booking portal for sailing clubs, with waiting lists",
            "Harbor",
            "self-hosted booking portal for sailing clubs",
        ),
        ("Build a URL shortener with click analytics", "URL shortener", None),
    ],
)
def test_a_named_subject_keeps_what_the_goal_says_it_is(
    goal: str, subject: str, descriptor: str | None
) -> None:
    reading = read(goal)
    assert reading.subject == subject
    assert reading.descriptor == descriptor


@pytest.mark.parametrize(
    "goal",
    ["Go tracker for pet adoptions at an animal shelter", "A Go dashboard for warehouse stock"],
)
def test_go_before_a_kind_of_program_is_the_language(goal: str) -> None:
    assert [t.name for t in read(goal).technologies] == ["Go"]


def test_a_rescue_is_an_event_and_an_alert_to_people_is_a_message_not_an_anomaly() -> None:
    reading = read(
        "Build a Kotlin Wear OS app for lifeguards to log rescues and alert the beach office"
    )
    rescue, alert = entity(reading, "Rescue"), entity(reading, "Alert")
    assert {"rescued_at", "recorded_by"} <= {a.name for a in rescue.attributes}
    assert [a.name for a in alert.attributes] == [
        "message",
        "severity",
        "raised_at",
        "acknowledged_at",
    ]
    anomalies = read("Build an analytics cockpit with anomaly alerts on weekly revenue")
    assert "baseline" in {a.name for a in entity(anomalies, "Anomaly").attributes}
    assert anomalies.entity("Alert") is None
