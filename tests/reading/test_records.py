"""Records with the fields the goal implies: who does what to which thing, and when.

Goals of this file's own. Each clause of the shape "<people> <verb> <things> [time]" or
"<thing> <records> for <people> [with time]" gives its record a reference to the people, a
reference to the thing and the time words as attributes, and nothing is made of the verb,
a particle or the time words themselves.
"""

import pytest

from missionctl.planning import LocalPlanner
from missionctl.planning.base import PlanningInput
from missionctl.reading import Entity, GoalReading, read_goal
from missionctl.reading.records import read_records, time_words

HOSTEL = (
    "Build a booking web app for a hostel: members reserve beds by date, staff check guests in "
    "and out, and nightly occupancy reports"
)
CAMPSITE = (
    "Build a reservation system for a campsite: pitch reservations for members with arrival "
    "and departure dates, and a waiting list"
)
LIBRARY = (
    "Build a library system: patrons borrow books with due dates, and librarians send overdue "
    "notices"
)


def read(goal: str) -> GoalReading:
    return read_goal(title=goal[:60], goal=goal)


def entity(reading: GoalReading, name: str) -> Entity:
    found = {e.name: e for e in reading.entities}
    assert name in found, f"no {name} among {sorted(found)}"
    return found[name]


def fields(e: Entity) -> dict[str, tuple[str, str | None]]:
    return {a.name: (a.type, a.ref) for a in e.attributes}


def test_a_reservation_has_a_member_a_bed_and_a_date() -> None:
    reading = read(HOSTEL)
    reservation = fields(entity(reading, "Reservation"))
    assert reservation["member_id"] == ("uuid", "Member")
    assert reservation["bed_id"] == ("uuid", "Bed")
    assert reservation["date"] == ("date", None)
    assert "status" in reservation and "reserved_at" in reservation
    assert entity(reading, "Member").personal
    assert entity(reading, "Guest").personal  # "check guests in": guests are people too
    names = {e.name for e in reading.entities}
    # Nothing made of the verb, of a particle, or of the software's own name.
    assert not names & {"Reserve bed", "Out", "Booking"}
    assert "staff check guests in and out" in [f.text for f in reading.features]


def test_dates_given_with_a_thing_s_records_stay_in_its_clause() -> None:
    reading = read(CAMPSITE)
    assert [f.text for f in reading.features] == [
        "pitch reservations for members with arrival and departure dates",
        "waiting list",
    ]
    reservation = fields(entity(reading, "Reservation"))
    assert reservation["pitch_id"] == ("uuid", "Pitch")
    assert reservation["member_id"] == ("uuid", "Member")
    assert reservation["arrives_on"] == ("date", None)
    assert reservation["departs_on"] == ("date", None)
    assert not {e.name for e in reading.entities} & {"Arrival", "Departure date"}


def test_a_loan_keeps_who_borrowed_what_and_when_it_is_due() -> None:
    reading = read(LIBRARY)
    loan = entity(reading, "Loan")
    assert fields(loan)["patron_id"] == ("uuid", "Patron")
    assert fields(loan)["book_id"] == ("uuid", "Book")
    assert fields(loan)["due_on"] == ("date", None)
    assert "returned" in next(a.note for a in loan.attributes if a.name == "status")
    assert "Overdue notice" in {e.name for e in reading.entities}


def test_a_logbook_is_entries_about_its_thing_never_changed() -> None:
    reading = read(
        "Build a Kotlin Android app for a climbing gym: route logbook, belay certification "
        "checks and session check-in"
    )
    entry = entity(reading, "Log entry")
    assert entry.append_only
    assert fields(entry)["route_id"] == ("uuid", "Route")
    assert "Route logbook" not in {e.name for e in reading.entities}


def test_a_vet_s_patient_has_a_species_and_a_clinic_s_patient_does_not() -> None:
    vet = read("Build a REST API for a veterinary clinic: appointments, patients, invoices")
    clinic = read("Build a clinic portal where patients book appointments in time slots")
    assert {"species", "owner_contact"} <= set(fields(entity(vet, "Patient")))
    human = fields(entity(clinic, "Patient"))
    assert "species" not in human and "owner_contact" not in human and "contact" in human
    assert fields(entity(clinic, "Appointment"))["patient_id"] == ("uuid", "Patient")


@pytest.mark.parametrize(
    ("clause", "kept"),
    [
        ("Laravel booking site", None),  # the booking names a kind of site
        ("Shopify orders into a warehouse", None),  # a technology is no thing
        ("supplier orders", "Purchase order"),  # a known entity says what these are
        ("ticket sales", "Ticket sale"),  # an event, as the events table reads it
        ("order history service", None),
    ],
)
def test_clauses_that_name_no_participants_make_no_references(
    clause: str, kept: str | None
) -> None:
    reading = read(f"Build an app with {clause}")
    names = {e.name for e in reading.entities}
    assert not names & {"Laravel", "Shopify", "Ticket", "Order history", "Supplier order"}
    refs = {a.name for e in reading.entities for a in e.attributes if a.ref}
    assert not refs & {"laravel_id", "shopify_id", "ticket_id", "order_id"}
    assert kept is None or kept in names
    assert all(r.people is None for r in read_records([clause]))


def test_each_time_word_gives_its_attributes_once() -> None:
    names = [a.name for a in time_words("time slots on a date range, every night")]
    assert names == ["starts_on", "ends_on", "starts_at", "ends_at", "night"]
    assert time_words("nothing about when") == ()


@pytest.mark.parametrize(
    "hostile",
    [
        "members " * 2000 + "reserve beds",
        "members reserve " + "beds and " * 500 + "dates",
        "\x00 members reserve beds \u202e by date",
        "",
    ],
)
def test_odd_clauses_read_without_error(hostile: str) -> None:
    reading = read(f"Build an app: {hostile}")
    assert len(reading.entities) <= 10


def test_a_device_keeps_readings_of_what_it_weighs_not_records_of_its_objects() -> None:
    reading = read(
        "Write embedded C firmware for a beehive scale: weighs the hive every hour, sends "
        "weights over LoRaWAN, and alerts on swarming"
    )
    assert [e.name for e in reading.entities] == ["Reading"]
    assert "grams" in fields(entity(reading, "Reading"))
    assert reading.features[0].title == "Weigh the hive every hour"


async def test_a_feature_that_names_who_does_it_is_their_task_not_the_software_s_verb() -> None:
    reading = read(HOSTEL)
    assert [f.doers for f in reading.features] == ["members", "staff", None]
    result = await LocalPlanner().plan(PlanningInput(title="Hostel", goal=HOSTEL))
    titles = {task.key: task.title for task in result.draft.tasks}
    assert titles["bed-reservation"] == "Let members reserve beds by date"
    assert titles["guest-checks"] == "Let staff check guests in and out"
