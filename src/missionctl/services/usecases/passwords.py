"""Which passwords are refused beyond their length (ADR 0077): common, repetitive or the name.

``data/common_passwords.txt`` lists the 10,000 most common passwords, most common first, in
lower case: the first 10,000 lines of the list Django ships (``common-passwords.txt.gz``,
compiled by Royce Williams from public leaks). It is read once, on the first check.

A password is refused, with the reason, when (all compared without regard to case):

- it is on the list (``password1234``), or is a listed password followed only by digits and
  punctuation (``iloveyou2024!``): the first guesses of any attacker;
- it is made of fewer than ``MIN_DISTINCT_CHARS`` different characters (``aaaaaaaaaaaa``);
- it contains the user's name, for a name of ``MIN_NAME_CHARS`` characters or more (the name
  is public: the audit log and every page show it).
"""

import string
from functools import cache
from importlib.resources import files

from missionctl.schemas.datafiles import read_data_text

COMMON_PASSWORDS_FILE = "common_passwords.txt"
MIN_DISTINCT_CHARS = 5
MIN_NAME_CHARS = 3
_PADDING = string.digits + string.punctuation + " "


@cache
def common_passwords() -> frozenset[str]:
    """The bundled list of common passwords, lower case (read once)."""
    text = read_data_text(
        files("missionctl.services.usecases").joinpath("data", COMMON_PASSWORDS_FILE)
    )
    return frozenset(line for line in text.splitlines() if line)


def password_problem(password: str, *, user_name: str | None) -> str | None:
    """Why ``password`` is refused for the user ``user_name``, or ``None`` when it is not.

    Length is checked elsewhere (``schemas.identity``); this says what a guesser tries first.
    """
    folded = password.casefold()
    common = common_passwords()
    if folded in common:
        return "is one of the 10,000 most common passwords; choose a longer, unusual phrase"
    stem = folded.rstrip(_PADDING)
    if stem != folded and stem in common:
        return "is a common password with digits or symbols added; choose a longer, unusual phrase"
    if len(set(folded)) < MIN_DISTINCT_CHARS:
        return (
            f"uses fewer than {MIN_DISTINCT_CHARS} different characters; "
            "choose a longer, unusual phrase"
        )
    name = (user_name or "").casefold()
    if len(name) >= MIN_NAME_CHARS and name in folded:
        return "contains the user's name, which everyone can see; leave it out"
    return None
