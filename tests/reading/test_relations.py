"""Records get the fields the goal's own words give them: parts, values, and who did it.

Goals of this file's own. A "with", a "where" or a "has" relates two things of the goal: the
part points at its whole (one-to-many from the whole), a value or a time becomes a typed field
of its record, people become a reference; a clause whose people act on a thing gives the thing
a reference to them. Nothing is read from the mission's constraints, and software (the
subject of most goals) holds no records.
"""

import pytest

from missionctl.reading import Attribute, Entity, GoalReading, read_goal
from missionctl.reading.clauses import has_parts

HUT_LOGBOOK = "Build a mountain hut logbook where wardens record entries with weather notes"
BAKERY_RECIPES = (
    "Build a sourdough recipe app: cookbooks with recipes, recipes with ingredients and "
    "baking times"
)
BIKE_COOP = (
    "Build a workshop app for a bike co-op where volunteers log repairs on bikes with mileage "
    "and cost"
)
KENNEL = "Build a boarding kennel app: each dog has vaccinations and a feeding plan"


def read(goal: str, *constraints: str) -> GoalReading:
    return read_goal(title=goal[:60], goal=goal, constraints=constraints)


def entity(reading: GoalReading, name: str) -> Entity:
    found = {e.name: e for e in reading.entities}
    assert name in found, f"no {name} among {sorted(found)}"
    return found[name]


def field(e: Entity, name: str) -> Attribute:
    found = e.attribute(name)
    assert found is not None, f"{e.name} has no {name}: {[a.name for a in e.attributes]}"
    return found


def test_a_logbook_holds_the_entries_its_wardens_record() -> None:
    reading = read(HUT_LOGBOOK)
    logbook, entry = entity(reading, "Hut logbook"), entity(reading, "Entry")

    owner = field(entry, "hut_logbook_id")
    assert (owner.type, owner.ref, owner.part_of) == ("uuid", "Hut logbook", True)
    warden = field(entry, "warden_id")
    assert (warden.type, warden.ref, warden.part_of) == ("uuid", "Warden", False)
    assert warden.note == "who records it"
    assert field(entry, "recorded_at").type == "timestamptz"
    # Who recorded it is the reference now, not a free-text field beside it.
    assert entry.attribute("recorded_by") is None
    assert entry.append_only and entity(reading, "Warden").personal
    assert not logbook.refs()
    # "weather notes" is what an entry says, not a record of its own.
    assert not {"Weather note", "Note"} & {e.name for e in reading.entities}


def test_with_lists_give_parts_to_their_wholes_and_values_to_their_records() -> None:
    reading = read(BAKERY_RECIPES)
    recipe = entity(reading, "Recipe")

    assert field(recipe, "cookbook_id").ref == "Cookbook" and field(recipe, "cookbook_id").part_of
    assert field(entity(reading, "Ingredient"), "recipe_id").ref == "Recipe"
    assert field(recipe, "duration_minutes").type == "integer"
    assert "Baking time" not in {e.name for e in reading.entities}
    # A cookbook points at nothing: it is the one side of the one-to-many.
    assert not entity(reading, "Cookbook").refs()


def test_what_a_record_is_measured_in_is_a_typed_value_never_an_entity() -> None:
    reading = read(BIKE_COOP)
    repair_log = entity(reading, "Log entry")

    assert field(repair_log, "volunteer_id").ref == "Volunteer"
    assert field(repair_log, "mileage_km").type == "integer"
    cost = field(repair_log, "cost_cents")
    assert cost.type == "bigint" and "minor units" in cost.note
    assert not {"Mileage", "Cost"} & {e.name for e in reading.entities}


def test_what_a_thing_has_is_its_part_and_and_adds_another() -> None:
    assert has_parts("each dog has vaccinations and a feeding plan") == (
        "dog",
        ("vaccinations", "feeding plan"),
    )
    reading = read(KENNEL)
    for part in ("Vaccination", "Feeding plan"):
        assert field(entity(reading, part), "dog_id").ref == "Dog"
    member_plan = read("Build a rowing club app where each member has a training plan with drills")
    assert field(entity(member_plan, "Training plan"), "member_id").ref == "Member"
    assert field(entity(member_plan, "Drill"), "training_plan_id").ref == "Training plan"


def test_people_who_act_on_a_thing_are_its_reference() -> None:
    reading = read("Build a site inspection app where inspectors record defects with photos")
    defect = entity(reading, "Defect")
    assert field(defect, "inspector_id").ref == "Inspector"
    assert field(entity(reading, "Photo"), "defect_id").ref == "Defect"


@pytest.mark.parametrize(
    "goal",
    [
        "Build a boat maintenance tracker where captains log repairs",
        "Build a quiz game with leaderboards and hint cards",
        "Build a scheduling portal for a dance school, with role-based access",
    ],
)
def test_software_holds_no_records(goal: str) -> None:
    reading = read(goal)
    names = {e.name for e in reading.entities}
    assert not names & {"Tracker", "Boat maintenance tracker", "Quiz game", "Scheduling portal"}
    # Nothing is made part of the software (a game's known records keep their own refs).
    assert [a.name for e in reading.entities for a in e.attributes if a.part_of] == []


def test_a_with_after_a_comma_is_said_of_the_product_not_the_clause_before() -> None:
    reading = read("Build an API for a tutoring agency: lessons, invoices, with single sign-on")
    assert all(not a.part_of for e in reading.entities for a in e.attributes)
    assert entity(reading, "User").attribute("invoice_id") is None


def test_no_field_or_entity_comes_from_a_constraint() -> None:
    goal = "Build a mountain hut logbook where wardens record entries"
    plain = read(goal)
    bound = read(goal, "entries with cost and mileage are kept 7 years", "deadline: June")
    assert bound.entities == plain.entities
    fields = {a.name for e in bound.entities for a in e.attributes}
    assert not fields & {"cost_cents", "mileage_km", "due_at"}


@pytest.mark.parametrize(
    "hostile",
    [
        "cookbooks with recipes, " * 400,
        "each shelf has " + "jars and " * 600 + "lids",
        "wardens record entries where " * 300,
        "has has has with with where and and",
        "\x00 logbook where \u202e wardens record entries with cost",
    ],
)
def test_odd_relations_read_without_error(hostile: str) -> None:
    reading = read(f"Build a logbook: {hostile}")
    assert len(reading.entities) <= 10
    names = {e.name for e in reading.entities}
    for e in reading.entities:
        assert all(a.ref in names for a in e.attributes if a.ref), e.name
