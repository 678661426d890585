"""The grammar of a goal: its leading verb, subject, host system and feature clauses.

How a goal is read:

1. Only the first sentence (and any bullet lines) is read for the subject and features; a
   later sentence adds features only when people do something in it ("Let staff check them
   in at the door"). A first sentence that opens with people doing something ("Volunteers at
   the food bank log donations, and …") names no subject: all of it is features. Who does
   each clause, and what its "them" or "it" stands for, is read as :mod:`doers` says
   ("volunteers log donations, and volunteers swap them": the donations).
2. The leading verb is dropped ("Build", "Train and deploy"), then the articles.
3. An existing system the work goes into ("to an existing Django monolith", or after "to" for
   verbs such as "add" and "integrate") is the host.
4. The subject runs up to the first "with", "that", "to <verb>", comma, colon …; "X as a Y"
   keeps the name X, and Y is its descriptor ("live orchestration dashboard for AI
   agents"). What follows "for" in the subject is its purpose ("inventory management
   system" for a "small bakery").
5. The rest is split on commas, colons, "with", "that", "and" … into features ("click
   analytics", "custom aliases"). A clause starting with a verb is an action ("converts CSV
   files to Parquet", titled "Convert CSV files to Parquet"; "to track water intake", titled
   "Track water intake"); a bare verb joins the next clause ("backs up" + "restores a
   database"). A verb "and" adds after people and their verb shares those people ("a family
   scans barcodes and gets a weekly shopping list": the family gets the list), when its form
   agrees with them.
6. What the split separates, a "with" or a "where" also relates: "cookbooks with recipes" says
   the cookbooks have the recipes; "a ferry route logbook where skippers record entries" that
   the entries are the logbook's; the clauses "and" adds to such a list are related alike
   ("recipes with ingredients and cooking times"). These are the goal's ``links``. A value
   a "with" gives a feature ("mechanics log repairs with mileage and cost") is part of that
   feature, not one of its own; a clause led by a technology ("Stripe payments") is the
   feature the technology provides, and the technology a stack choice; a clause naming only
   technologies ("with Stripe and PostgreSQL") is no feature at all.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from missionctl.reading.doers import agrees, base_verbs, doers_of, resolve_pronouns, self_as_doer
from missionctl.reading.model import Feature
from missionctl.reading.records import value_words
from missionctl.reading.vocabulary import vocabulary
from missionctl.reading.words import (
    as_said,
    capitalise,
    clip,
    normalise,
    strip_articles,
    third_person,
    third_person_verbs,
)

__all__ = [
    "DEPLOYMENT_CLAUSE",
    "MAX_FEATURES",
    "ParsedGoal",
    "has_parts",
    "parse_goal",
]

MAX_FEATURES = 10
SUBJECT_MAX_CHARS = 80
FEATURE_MAX_CHARS = 120
FALLBACK_SUBJECT = "software"

_FLAGS = re.IGNORECASE
_HOST_EXISTING = re.compile(
    r"\s*\b(?:to|into|in|for|on|of)\s+(?:an?\s+|the\s+|our\s+|my\s+)?"
    r"(?P<host>(?:existing|current|legacy)\s+[^,;:.]+?)"
    r"(?=\s+(?:with|without|using|so that|that|which|by|and)\b|[,;:.]|$)",
    _FLAGS,
)
_HOST_TARGET = re.compile(
    r"\s*\b(?:to|into)\s+(?:an?\s+|the\s+|our\s+|my\s+)?(?P<host>[^,;:.]+?)"
    r"(?=\s+(?:with|without|using|so that|that|which|by)\b|[,;:.]|$)",
    _FLAGS,
)
# A comma between a digit and three more ("50,000 PDFs") groups thousands: it ends no clause.
_COMMA = r",(?!(?<=\d,)\d{3}(?!\d))"
_SUBJECT_END = (
    rf"\s*(?::|;|{_COMMA}|\s-\s|\b(?:with|that|which|without|using|so that|including|featuring|"
    r"where|plus)\b"
)
_PURPOSE = re.compile(r"\s+for\s+", _FLAGS)
_AS_DESCRIPTOR = re.compile(r"\s+as\s+(?:an?|the)\s+", _FLAGS)
_CLAUSE_SPLIT = re.compile(
    rf"\s*(?:[:;&]|{_COMMA}|\s-\s|\b(?:with|that|which|and|plus|including|featuring|as well as|"
    r"where)\b|(?=\b(?:without|using|via)\b))\s*",
    _FLAGS,
)
_CLAUSE_SEPARATOR = re.compile(f"({_CLAUSE_SPLIT.pattern})", _FLAGS)
# A clause after one of these belongs to what comes before it; "and" continues the list.
_OWNING = frozenset({"with", "where"})
_LISTING = frozenset({"and", "&", "plus"})
_MARKS = frozenset({",", ";", ":", "-"})
# "each member has a training plan", "dogs have vaccinations": a whole and what it has.
_HAS = re.compile(
    r"^(?:(?:each|every|a|an|the)\s+)?(?P<whole>[a-z][\w -]*?)\s+"
    r"(?:has|have|holds?|contains?|includes?)\s+(?P<parts>[a-z][\w ,-]*)$",
    _FLAGS,
)
_HAS_LIST = re.compile(
    r"\s*,\s*(?:and\s+)?|\s+and\s+|^(?:many|several|multiple|some|one or more|their|its)\s+",
    _FLAGS,
)
_LEADING_CONNECTOR = re.compile(
    r"^(?:and|or|with|that|which|also|plus|including|featuring|both|then|where|to|it|"
    r"should|must|can|will)\s+",
    _FLAGS,
)
_DROPPED_CLAUSE = re.compile(
    r"^(?:using|via|built with|as)\b|^(?:etc|and so on|more|when|where|why|how)$",
    _FLAGS,
)
# A participle saying where and how the software is run ("deployed with Helm on Kubernetes",
# "hosted on Fly.io"): what the software is deployed onto, not what it is or does.
_DEPLOYED = (
    r"^(?:deployed|hosted|packaged|shipped|released)\s+"
    r"(?:with|on|to|onto|in|into|via|as|behind|through|using)\b"
)
DEPLOYMENT_CLAUSE = re.compile(_DEPLOYED, re.IGNORECASE)
"""A clause of the goal saying where the software is deployed; its words say nothing of its kind."""
# A clause that bounds the whole product rather than naming something it does ("HIPAA
# applies", "must comply with GDPR", "works offline"): read as a constraint of the goal.
# A count as a figure or in words ("18", "2.5", "two", "a").
_AMOUNT = (
    r"(?:\d+(?:[.,]\d+)?|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
    r"eighteen|twenty|thirty)"
)
_CONSTRAINT_CLAUSE = re.compile(
    r"\bcompl(?:y|ies|iant|iance)\b|\b(?:applies|apply)$|"
    r"^(?:must |should |has to |needs to )?(?:work|works|working|run|runs|running)\s+"
    r"(?:fully\s+)?offline\b|"
    # A bound on the whole product with the user's figure: "sleeps below 20 µA", "uses under
    # 30 MB of memory", "starts in under 2 seconds", "lasts 3 years on two AA cells". A verb
    # that does something ("alerts when the level drops below 20 %") is not one of these.
    r"^(?:must |should |has to |needs to )?"
    r"(?:sleeps?|draws?|consumes?|uses?|stays?|starts?|loads?|answers?|responds?|fits?|"
    r"weighs?|costs?|boots?)\s+(?:in\s+)?(?:under|below|within|less than|at most|no more than)"
    r"\s+[$€£]?\d|"
    rf"^(?:must |should |has to |needs to )?(?:runs?|running|lasts?|lasting)\s+(?:for\s+)?"
    rf"{_AMOUNT}\s*(?:years?|months?|weeks?|days?|hours?)\s+on\b|"
    # A latency, quality or freshness bound said on its own: "in under a second for 500
    # tables", "precision above 0.9 at 1% recall loss", "refreshed every hour".
    rf"^(?:in\s+)?(?:under|below|within|less than|at most)\s+{_AMOUNT}\s*"
    r"(?:ms|milliseconds?|seconds?|s|minutes?)\b|"
    r"^(?:an?\s+)?(?:precision|recall|accuracy|f1(?:\s+score)?|auc|error rate|uptime|"
    r"availability|p9[59]|p50|latency)\s+(?:of\s+)?(?:above|over|below|under|at least|at most|"
    r"within|>=?|<=?)\s*\d|"
    r"^(?:refreshed|updated|recomputed|rebuilt|synced)\s+(?:every|each|at least every)\b|"
    # What the change must not break: "without losing users' saved drafts", "keeping GDPR
    # deletion requests working".
    r"^without\s+(?:losing|breaking|dropping|corrupting|changing)\b|"
    r"^(?:keeping|keeps?)\s+.+\s+(?:working|intact|available|running|unchanged)$|"
    # A retention period: "deletes inactive accounts after 30 days", "keeps files for 7 years".
    r"^(?:must |should )?(?:deletes?|purges?|erases?|anonymi[sz]es?|removes?|expires?)\s+"
    r"(?:[\w-]+\s+){0,4}?(?:after|older than)\s+\d+\s*(?:days?|weeks?|months?|years?)$|"
    r"^(?:must |should )?(?:keeps?|retains?|stores?)\s+(?:[\w-]+\s+){0,4}?for\s+"
    r"(?:up to\s+|at least\s+|at most\s+)?\d+\s*(?:days?|weeks?|months?|years?)$|"
    # An availability bound: "zero-downtime deploys", "no downtime during upgrades".
    r"\bdowntime\b|"
    # Where the software runs ("deployed with Helm on Kubernetes"): a bound on every part.
    rf"{_DEPLOYED}",
    _FLAGS,
)
# "comply with GDPR" and "deployed with Helm" are one clause each: their "with" must not
# split them (rejoined after the split).
_BOUND_WITH = re.compile(
    r"\b(compl(?:y|ies|iant|iance)|accordance|deployed|hosted|packaged|shipped|released)"
    r"\s+with\s+",
    _FLAGS,
)
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+(?P<item>.+)$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


@cache
def _subject_end() -> re.Pattern[str]:
    # "an app to track water intake": "to" and a verb end the subject too.
    verbs = "|".join(sorted(base_verbs()))
    return re.compile(rf"{_SUBJECT_END}|\bto\s+(?=(?:{verbs})\b))", _FLAGS)


@cache
def _leading_verb() -> re.Pattern[str]:
    verbs = sorted(vocabulary().leading_verbs, key=len, reverse=True)
    alternatives = "|".join(re.escape(verb).replace(r"\ ", r"\s+") for verb in verbs)
    return re.compile(
        r"^(?:please\s+)?(?:(?:i|we)\s+(?:need|want|would like)\s+to\s+)?"
        rf"(?P<verb>{alternatives})\b\s*",
        _FLAGS,
    )


@dataclass(frozen=True, slots=True)
class ParsedGoal:
    """The grammar of a goal; see the module docstring for how each part is found.

    ``verb_phrases`` are the verbs as written ("Build", "backs up and restores"), so that
    nouns can be read from the goal without them.
    """

    verb: str | None
    subject: str
    purpose: str | None
    subject_phrase: str
    host: str | None
    features: tuple[Feature, ...]
    verb_phrases: tuple[str, ...]
    descriptor: str | None = None
    constraints: tuple[str, ...] = ()
    links: tuple[tuple[str, str], ...] = ()
    """``(whole, part)``: a feature's text, or the subject, and a feature it has (point 6)."""
    parts: tuple[str, ...] = ()
    """Things a feature of people is done with ("photos" of "inspectors record defects with
    photos"): folded into that feature's title, and still things the software keeps."""
    replaced: str | None = None
    """What a "Replace X with Y" goal retires (X, as written), or ``None``."""


def parse_goal(goal: str, *, title: str, english: bool, tech_names: Iterable[str]) -> ParsedGoal:
    """Read the grammar of ``goal``; a goal not in English keeps only a neutral subject.

    Args:
        goal: The goal as the user wrote it.
        title: The mission title, the subject when the goal names none.
        english: Whether the goal is in English (the grammar is English's).
        tech_names: Canonical technology names, lower case: a clause that only names one is a
            stack choice, not a feature, unless nothing else is.
    """
    if not english:
        return ParsedGoal(None, FALLBACK_SUBJECT, None, FALLBACK_SUBJECT, None, (), ())
    lines = [line for line in goal.splitlines() if line.strip()]
    bullets = [m.group("item") for line in lines if (m := _BULLET.match(line))]
    prose = " ".join(line.strip() for line in lines if not _BULLET.match(line))
    sentences = _SENTENCE_END.split(normalise(prose))
    first = sentences[0].strip().rstrip(".!?")

    verb, verb_phrases, replaced, rest = _opening(first, frozenset(tech_names))
    host, rest = _take_host(rest, verb)
    subject_text, remainder, described = _subject_parts(rest, verb)
    deployed = _deployment(verb, subject_text, remainder)
    if verb in vocabulary().moving_verbs | vocabulary().deploying_verbs and " to " in subject_text:
        subject_text = subject_text.split(" to ", 1)[0]  # "Migrate X to Y": X is moved
    phrase = clip(strip_articles(subject_text), SUBJECT_MAX_CHARS)
    if not phrase:
        phrase = _title_subject(title, goal) or FALLBACK_SUBJECT
    split = [_from_participle(c) for c in _share_doers(_split_clauses(remainder))]
    split = resolve_pronouns(self_as_doer(split + _later_clauses(sentences)), subject_text)
    clauses = [*((c, i) for c, i, _ in split), *((normalise(item), False) for item in bullets)]
    if host and (parts := _coordinated(phrase)):
        # "Add two-factor sign-in and an audit log export to our invoicing portal": two
        # features of a change whose subject is the system they go into.
        clauses = [*((part, False) for part in parts), *clauses]
        phrase = host
    clauses, phrase = _tools_for_purpose(clauses, phrase, frozenset(tech_names))
    subject, purpose = _split_purpose(phrase)

    # What a replacement retires is a condition of the whole goal, not a feature of it.
    retired = (f"replaces the {replaced}",) if replaced else ()
    constraints = (
        deployed
        + retired
        + tuple(dict.fromkeys(c for c, _ in clauses if _CONSTRAINT_CLAUSE.search(c)))
    )
    techs = frozenset(tech_names)
    constraints += _stack_choice(clauses, techs, deployed)
    clauses = [
        (c, infinitive)
        for c, infinitive in clauses
        if c not in constraints and normalise(c).lower() not in techs
    ]
    features = _features(clauses, phrase, techs)
    features, values = _with_values(features, _value_parts(split, subject), said=prose)
    verb_phrases.extend(_action_parts(f.text, infinitive=False)[0] for f in features if f.action)
    links = _links(split, subject, {f.text.lower() for f in features} | values)
    folded_things = tuple(
        dict.fromkeys(
            text
            for text in (normalise(c) for c, _, _ in split)
            if text.lower() in values and not value_words(text)
        )
    )
    return ParsedGoal(
        verb,
        subject,
        purpose,
        phrase,
        host,
        features,
        tuple(verb_phrases),
        clip(described, SUBJECT_MAX_CHARS) if described else None,
        constraints,
        links,
        folded_things,
        replaced=replaced,
    )


# "Replace X with Y": Y after "with" and an article ("with an internal tool"), up to a mark.
_REPLACED_WITH = re.compile(
    r"^(?P<old>.+?)\s+with\s+(?P<new>(?:an?|the|one|new|a new|our own)\s+[^,;:]+?)"
    r"(?P<tail>\s*(?:[,;:]|\s-\s).*)?$",
    _FLAGS,
)


_OLD_PLACE = re.compile(r"\s+(?:at|in|for|of)\s+(?=(?:our|the|their|my)\s)", _FLAGS)
_OLD_USE = r"(?:use[sd]?|keep|keeps|kept|fill in|fills in|share|shares|rel(?:y|ies) on|works? from)"
_OLD_USERS = re.compile(
    rf"\s+(?:that\s+)?(?:(?P<users>(?:our|the|their|my)\s.+?)\s+{_OLD_USE}|(?:we|i)\s+"
    rf"(?:still\s+)?{_OLD_USE}(?:\s+(?:for|to track|to plan|to run)\s+(?P<purpose>.+))?|"
    r"(?:we|i)\s.*)$",
    _FLAGS,
)


def _replacement(rest: str, tech_names: frozenset[str]) -> tuple[str | None, str] | None:
    """``(what is replaced, the goal as the making of its replacement)``, or ``None``.

    "Replace the Excel sheets our team uses to track pallet moves with an internal tool"
    makes an internal tool to track pallet moves: the new thing is the subject, and what the
    old one was used for its features. A technology after "with" ("with PostgreSQL", "with a
    Django app") is a move of the old thing: what is replaced is then ``None``, and the goal
    is read without "with" and its technology.
    """
    match = _REPLACED_WITH.match(rest)
    if match is None:
        return None
    new = strip_articles(match.group("new")).strip()
    words = new.lower().split()
    if any(" ".join(words[:count]) in tech_names for count in (1, 2, 3)):
        # "with PostgreSQL", "with a Vue app": the old thing moves, as "to Y" of a
        # migration says, and where it goes is the stack, not a feature.
        return None, f"{match.group('old')}{match.group('tail') or ''}"
    new_end = _subject_end().search(new)
    new, new_rest = (new[: new_end.start()], new[new_end.start() :]) if new_end else (new, "")
    old = match.group("old")
    end = _subject_end().search(old)
    uses = old[end.start() :] if end else ""
    old_thing = strip_articles((old[: end.start()] if end else old).strip(" ,"))
    # "sheets at our climbing gym": where it was used is what the new thing is for.
    place = ""
    if at := _OLD_PLACE.search(old_thing):
        old_thing, place = old_thing[: at.start()], f" for {old_thing[at.end() :]}"
    # "sheets our warehouse team uses": whom it served is whom the new thing is for.
    if users := _OLD_USERS.search(old_thing):
        old_thing = old_thing[: users.start()]
        # "… we use for volunteer shifts": what it was for; "… our team uses": whom.
        served = users.group("purpose") or users.group("users")
        place = place or (f" for {served}" if served else "")
    return old_thing or None, f"{new}{place}{uses}{new_rest}{match.group('tail') or ''}"


def _opening(
    first: str, tech_names: frozenset[str]
) -> tuple[str | None, list[str], str | None, str]:
    """The first sentence's leading verb, its words as written, what it replaces, and the rest.

    "Replace X with Y, …" is read as the making of Y (see :func:`_replacement`).
    """
    verb: str | None = None
    verb_phrases: list[str] = []
    rest = first
    if match := _leading_verb().match(rest):
        verb = normalise(match.group("verb")).lower()
        verb_phrases.append(match.group(0).strip())
        rest = rest[match.end() :]
    rest = strip_articles(rest)
    replaced: str | None = None
    if verb == "replace" and (swap := _replacement(rest, tech_names)):
        replaced, rest = swap
    return verb, verb_phrases, replaced, rest


def _subject_parts(rest: str, verb: str | None) -> tuple[str, str, str | None]:
    """The subject's words, the rest of the sentence, and the subject's descriptor.

    A sentence that opens with people and what they do ("Volunteers at the food bank log
    donations, and …") names no subject: all of it is features, and the title names the
    software.
    """
    if verb is None and doers_of(strip_articles(rest)):
        return "", rest[:1].lower() + rest[1:], None  # the people are a common noun
    end = _subject_end().search(rest)
    described: str | None = None
    if descriptor := _AS_DESCRIPTOR.search(rest[: end.start()] if end else rest):
        # "Mission Control as a production-ready dashboard": the name, and what it is.
        described = rest[descriptor.end() : end.start() if end else None].strip(" .,;:")
        end = descriptor
    subject_text = (rest[: end.start()] if end else rest).strip(" .,;:")
    return subject_text, rest[end.start() :] if end else "", described


def _title_subject(title: str, goal: str) -> str:
    """The title as the subject, unless it is only the goal's opening words.

    A title made from the goal ("Volunteers at the food bank log donations, and…") names no
    software.
    """
    name = normalise(title).rstrip("…. ")
    if not name or normalise(goal).lower().startswith(name.lower()):
        return ""
    return clip(name, SUBJECT_MAX_CHARS)


_MOUNT = re.compile(r"^\s*(?:with|using|via|through)\s+", _FLAGS)


def _deployment(verb: str | None, subject_text: str, remainder: str) -> tuple[str, ...]:
    """The sentence of a deploy goal's deployment ("Deploy our Rails API to Kubernetes …").

    Returns ``("The Rails API is deployed to Kubernetes with a Helm chart",)``: the thing
    deployed is the subject, the target where it goes and what follows "with" the means. The
    sentence is a constraint of the goal (every part honours it); the means stay features.
    Any other goal gives nothing.
    """
    if verb not in vocabulary().deploying_verbs or " to " not in subject_text:
        return ()
    thing, target = subject_text.split(" to ", 1)
    means = _MOUNT.match(remainder)
    how = remainder[means.end() :] if means else ""
    # A bound of its own ("and zero-downtime rollouts") is said by its own requirement.
    bound = _CONSTRAINT_CLAUSE.search(how)
    if bound:
        head = how[: bound.start()]
        how = head[: max(head.rfind(" and "), head.rfind(","), head.rfind(" with "), 0)]
    how = f" with {how.strip(' .,')}" if how.strip(" .,") else ""
    thing = capitalise(strip_articles(thing.strip()))
    return (f"The {thing} is deployed to {target.strip()}{how}",)


_COORDINATION = re.compile(r"^(?P<first>.+?)\s+and\s+(?:an?|the)\s+(?P<second>.+)$", _FLAGS)


def _stack_choice(
    clauses: list[tuple[str, bool]], tech_names: frozenset[str], deployed: tuple[str, ...]
) -> tuple[str, ...]:
    """The goal's clauses that name only a technology, as one constraint ("Uses OIDC").

    "with Stripe and PostgreSQL" names the stack, a bound on every part, not a feature to
    build; the constraint keeps the names as written. A technology the ``deployed`` sentence
    already names is not said again.
    """
    said = " ".join(deployed).lower()
    named = [
        normalise(c)
        for c, _ in clauses
        # "Ship the Go service to Cloud Run with Terraform": its deployment says Terraform.
        if normalise(c).lower() in tech_names and normalise(c).lower() not in said
    ]
    if not named:
        return ()
    return (f"Uses {' and '.join(dict.fromkeys(named))}",)


def _tools_for_purpose(
    clauses: list[tuple[str, bool]], phrase: str, tech_names: frozenset[str]
) -> tuple[list[tuple[str, bool]], str]:
    """Split "Terraform for the Django API" into the tool and the subject's purpose.

    "Provision a GKE cluster with Terraform for the Django API": Terraform is how (a stack
    choice), and the Django API is what the cluster is for, not a feature of its own. A
    subject that already has a purpose keeps it, and the clause stays as it was.
    """
    if _split_purpose(phrase)[1] is not None:
        return clauses, phrase
    kept: list[tuple[str, bool]] = []
    for clause, infinitive in clauses:
        tool, *purpose = _PURPOSE.split(normalise(clause), maxsplit=1)
        if purpose and purpose[0].strip() and tool.strip().lower() in tech_names:
            kept.append((tool.strip(), infinitive))
            phrase = f"{phrase} for {purpose[0].strip()}"
            tech_names = frozenset()  # one purpose: a later clause stays as written
            continue
        kept.append((clause, infinitive))
    return kept, phrase


def _coordinated(phrase: str) -> tuple[str, str] | None:
    """The two noun phrases of "X and a|an|the Y", or ``None``.

    Only an article after "and" makes two things of it: "search and filter" stays one.
    """
    match = _COORDINATION.match(phrase)
    if match is None or _is_action(phrase):
        return None
    return match.group("first").strip(), strip_articles(match.group("second")).strip()


def _take_host(rest: str, verb: str | None) -> tuple[str | None, str]:
    """The existing system the work goes into, and the goal without it."""
    host_match = _HOST_EXISTING.search(rest)
    if host_match is None and verb in vocabulary().host_verbs:
        host_match = _HOST_TARGET.search(rest)
    if host_match is None:
        return None, rest
    host = clip(strip_articles(host_match.group("host").strip()), SUBJECT_MAX_CHARS)
    return host, (rest[: host_match.start()] + rest[host_match.end() :]).strip()


def _split_purpose(phrase: str) -> tuple[str, str | None]:
    """``"inventory system for a small bakery"`` → ``("inventory system", "small bakery")``."""
    parts = _PURPOSE.split(phrase, maxsplit=1)
    if len(parts) == 2 and parts[0].strip() and strip_articles(parts[1]).strip():
        return parts[0].strip(), strip_articles(parts[1]).strip()
    return phrase, None


def _split_clauses(text: str) -> list[tuple[str, bool, str]]:
    """The clauses of ``text``, each with whether it is an infinitive and what joined it.

    The joiner is the word or mark before the clause ("with", "and", "," …; "" for the
    first); an infinitive follows "to" ("to track X"). A verb whose object is a question
    clause stays one clause with it: "tracks which houseplants need watering" is one feature,
    not "tracks" and "houseplants need watering".
    """
    clauses: list[tuple[str, bool, str]] = []
    bound = _BOUND_WITH.sub(r"\1_with_", _bind_times(_bind_question_objects(text)))
    pieces = _CLAUSE_SEPARATOR.split(bound)
    joiner = ""
    for index in range(0, len(pieces), 2):
        if index:
            # A mark before the word ("invoices, with role-based access") keeps it from
            # the clause before: it is said of the whole goal.
            word = pieces[index - 1].strip().lower()
            joiner = f"{joiner} {word}".strip() if joiner in _MARKS else word or joiner
        part = _QUESTION_BOUND.sub(r" \1", pieces[index]).replace("_with_", " with ")
        part = part.replace("_and_", " and ")
        clause = part.strip(" .,;:!?\"'()[]")
        first, _, rest = clause.partition(" ")
        infinitive = first.lower() == "to" and rest.split(" ", 1)[0].lower() in base_verbs()
        # "to record vital signs and remind them …": a base verb "and" adds after an
        # infinitive is one too, its "to" left out.
        if (
            clauses
            and clauses[-1][1]
            and joiner in ("and", "or")
            and first.lower() in base_verbs()
            and rest
        ):
            infinitive = True
        while True:
            stripped = strip_articles(_LEADING_CONNECTOR.sub("", clause)).strip()
            if stripped == clause:
                break
            clause = stripped
        if clause:
            clauses.append((clause, infinitive, joiner))
            joiner = ""
    return clauses


def _share_doers(clauses: list[tuple[str, bool, str]]) -> list[tuple[str, bool, str]]:
    """``clauses`` with the people of a clause given to the verbs "and" adds after it.

    "a family scans barcodes and gets a weekly shopping list": "gets a weekly shopping list"
    becomes "family gets a weekly shopping list", so that no verb is left without its doers.
    Only a verb whose form agrees with the people is theirs ("members reserve beds and pay
    deposits", "a family scans and gets"); "mechanics log repairs and sends reminders" is
    the software's sending.
    """
    shared: list[tuple[str, bool, str]] = []
    doers: str | None = None
    for clause, infinitive, joiner in clauses:
        text = strip_articles(normalise(clause))
        if (let := strip_articles(_LET.sub("", text))) != text and doers_of(let):
            clause = text = let  # "and let attendees check themselves in": their own doing
        if doers and joiner in _LISTING and agrees(text, doers):
            clause = f"{doers} {text}"
        elif not (doers and joiner in _OWNING and not _is_action(text)):
            # "cyclists record rides with a GPS track and share them": what "with" adds to
            # the people's clause is theirs, and the verb after it theirs too.
            doers = doers_of(text)
        shared.append((clause, infinitive, joiner))
    return shared


_LET = re.compile(r"^(?:(?:also|and|then|please)\s*,?\s+)*(?:let|have|allow)\s+", _FLAGS)


def _later_clauses(sentences: list[str]) -> list[tuple[str, bool, str]]:
    """The clauses of the sentences after the first in which people do something.

    "Let staff check them in at the door" after "attendees buy tickets" is the feature
    "staff check attendees in at the door": "let" goes, and a pronoun is the nearest people
    named before it. A later sentence that does not start with people and their verb says
    something else (context, a wish) and is left to the other readings.
    """
    clauses: list[tuple[str, bool, str]] = []
    for sentence in sentences[1:]:
        text = strip_articles(_LET.sub("", sentence.strip().rstrip(".!?")))
        if doers_of(text) is not None:
            clauses += _share_doers(_split_clauses(text))
    return clauses


def _from_participle(clause: tuple[str, bool, str]) -> tuple[str, bool, str]:
    """``clause`` with a participle after a mark read as the software's action.

    ", falling back to passwords when Okta is down" says what the software does: it becomes
    "falls back to passwords when Okta is down", an action titled "Fall back to …". Only a
    clause after a comma, colon … whose first word is the "-ing" form of a feature verb is
    read so: "appointment booking" and "with logging" stay nouns.
    """
    text, infinitive, joiner = clause
    first, _, rest = text.partition(" ")
    base = _gerund_base(first.lower())
    if joiner not in _MARKS or not rest or base is None:
        return clause
    return f"{third_person(base)} {rest}", infinitive, joiner


def _gerund_base(word: str) -> str | None:
    """The feature verb whose "-ing" form ``word`` is ("falling" → "fall"), or ``None``."""
    if not word.endswith("ing") or len(word) < 6:
        return None
    stem = word[:-3]
    candidates = (stem, f"{stem}e", stem[:-1] if stem[-1:] == stem[-2:-1] else stem)
    return next((c for c in candidates if c in base_verbs()), None)


def _value_parts(clauses: list[tuple[str, bool, str]], subject: str) -> dict[str, list[str]]:
    """The values a "with" gives an earlier clause, by that clause in lower case.

    "mechanics log repairs with mileage and cost" → ``{"mechanics log repairs": ["mileage",
    "cost"]}``: a clause that names only a value or a time of a record ("mileage", "price")
    is the record's. What a "with" gives the subject ("a garden planner with weather notes")
    is a feature of the software, and stays one.
    """
    values: dict[str, list[str]] = {}
    whole: str | None = None
    before = subject
    for clause, _, joiner in clauses:
        text = normalise(clause)
        whole = _whole(joiner, whole, before, subject)
        if whole is not None and whole != subject and _belongs(text, whole):
            values.setdefault(whole.lower(), []).append(text)
        before = text
    return values


def _belongs(text: str, whole: str) -> bool:
    """Whether ``text``, after a "with", is part of the clause ``whole`` and no feature.

    A value or a time of a record ("mileage"), or what an action of people is done with: the
    people ("beekeepers share inspections with the regional inspector") or a thing ("runners
    log each run with a GPS track").
    """
    if value_words(text):
        return True
    if doers_of(strip_articles(whole)) is None or has_parts(strip_articles(whole)):
        return False  # "each member has a training plan with drills": drills are a part
    # What people do their action with: a thing ("cyclists record rides with a GPS track")
    # or other people ("share them with their club"); a verb after "with" is a feature.
    bare = strip_articles(text)
    return (
        bool(bare.split())
        and not _is_action(bare)
        and doers_of(bare) is None
        and not _CONSTRAINT_CLAUSE.search(bare)
    )


def _with_values(
    features: tuple[Feature, ...], values: dict[str, list[str]], *, said: str
) -> tuple[tuple[Feature, ...], set[str]]:
    """``features`` with each value clause folded into the feature that has it.

    Returns the features and the folded value clauses in lower case. The feature's title
    keeps the user's words as ``said`` has them ("Mechanics log repairs with mileage and
    cost", "… with a scale every morning"); a value whose owner is no feature (a constraint
    clause) stays a feature of its own.
    """
    owners = {f.text.lower() for f in features}
    folded = {v.lower() for whole, found in values.items() if whole in owners for v in found}
    kept: list[Feature] = []
    for feature in features:
        if feature.text.lower() in folded:
            continue
        found = [as_said(value, said) for value in values.get(feature.text.lower(), ())]
        if found:
            listed = " and ".join([", ".join(found[:-1]), found[-1]] if len(found) > 2 else found)
            title = clip(f"{feature.title} with {listed}", FEATURE_MAX_CHARS)
            feature = feature.model_copy(update={"title": title})
        kept.append(feature)
    return tuple(kept), folded


def _whole(joiner: str, whole: str | None, before: str, subject: str) -> str | None:
    """What the clause after ``joiner`` belongs to, given the clause ``before`` it.

    "with" and "where" make it the earlier clause's (the subject's, after a mark: "…, with
    role-based access"); "and" continues a list, or adds a part to what a "has" clause's
    whole has ("each dog has vaccinations and a feeding plan"); anything else ends the list.
    """
    if joiner in _OWNING:
        return before
    if joiner.split(" ")[-1] in _OWNING:
        return subject
    if joiner not in _LISTING:
        return None
    owned = has_parts(before) if whole is None else None
    return owned[0] if owned is not None else whole


def has_parts(clause: str) -> tuple[str, tuple[str, ...]] | None:
    """The whole and the parts of a clause that says what something has, or ``None``.

    ``"each dog has vaccinations and a feeding plan"`` → ``("dog", ("vaccinations", "a
    feeding plan"))``; a clause without "has", "have", "holds", "contains" or "includes" has
    none.
    """
    match = _HAS.match(clause.strip())
    if match is None:
        return None
    split = _HAS_LIST.split(match["parts"])
    parts = tuple(strip_articles(p.strip()) for p in split if p and p.strip())
    return (match["whole"], parts) if parts else None


def _links(
    clauses: list[tuple[str, bool, str]], subject: str, features: set[str]
) -> tuple[tuple[str, str], ...]:
    """``(whole, part)`` pairs the goal's "with", "where" and "has" relate (module, point 6).

    Only features (as ``features`` holds them, lower case) and the subject are related, and
    the whole a clause says has something ("each dog has vaccinations") to the clauses "and"
    adds ("and a feeding plan"): a constraint clause or a dropped one ("using Redis") belongs
    to nothing.
    """
    links: list[tuple[str, str]] = []
    whole: str | None = None
    before = subject
    for clause, _, joiner in clauses:
        text = normalise(clause)
        whole = _whole(joiner, whole, before, subject)
        related = whole is not None and (
            whole == subject or whole.lower() in features or has_parts(before) is not None
        )
        if whole is not None and related and text.lower() in features - {whole.lower()}:
            links.append((whole, text))
        before = text
    return tuple(dict.fromkeys(links))


@cache
def _time_phrase() -> re.Pattern[str]:
    times = "|".join(spec.words for spec in vocabulary().times)
    return re.compile(rf"\b(?:with|for|by|on)\s+(?:an?\s+|the\s+)?(?:{times})\b", _FLAGS)


def _bind_times(text: str) -> str:
    """``text`` with each time phrase joined to its clause for the split.

    "pitch reservations with arrival and departure dates" stays one clause: the dates are
    the reservation's, not features of their own.
    """

    def bind(match: re.Match[str]) -> str:
        words = match.group(0)
        head, _, rest = words.partition(" ")
        joined = rest.replace(" and ", "_and_")
        return f"_{head}_{joined}" if head.lower() == "with" else f"{head} {joined}"

    return _time_phrase().sub(bind, text)


_QUESTION_OBJECT = re.compile(r"\b([a-z]+)\s+(which|what|whether|how|when|where)\s+", _FLAGS)
# The joined form survives the clause split: "_which_" has no word boundary before "which".
_QUESTION_BOUND = re.compile(r"_(which|what|whether|how|when|where)_", _FLAGS)


def _bind_question_objects(text: str) -> str:
    """``text`` with "<verb>s which|what|… " joined as "<verb>s_which_ ", for the split."""

    def bind(match: re.Match[str]) -> str:
        verb, word = match.group(1), match.group(2)
        if verb.lower() not in third_person_verbs():
            return match.group(0)
        return f"{verb}_{word}_ "

    return _QUESTION_OBJECT.sub(bind, text)


def _features(
    clauses: Iterable[tuple[str, bool]], subject: str, tech_names: frozenset[str]
) -> tuple[Feature, ...]:
    raw: list[tuple[str, bool]] = []
    for clause, infinitive in clauses:
        text = normalise(clause)
        if len(text) < 2 or _DROPPED_CLAUSE.search(text) or text.lower() == subject.lower():
            continue
        raw.append((text, infinitive))

    # "backs up" + "restores a database" → one clause: a bare verb phrase joins the next.
    merged: list[tuple[list[str], bool]] = []
    for text, infinitive in raw:
        if merged and _is_action(text) and _is_bare_verb(merged[-1][0][-1]):
            merged[-1][0].append(text)
        elif merged and text.lower() in vocabulary().particles:
            merged[-1][0].append(text)  # "check guests in" + "out": one clause
        else:
            merged.append(([text], infinitive))

    features: list[Feature] = []
    seen: set[str] = set()
    for parts, infinitive in merged:
        text = clip(" and ".join(parts), FEATURE_MAX_CHARS)
        if text.lower() in seen:
            continue
        seen.add(text.lower())
        feature = _feature(text, parts, infinitive=infinitive)
        features.append(_provided(feature, tech_names))
    return tuple(features[:MAX_FEATURES])


def _provided(feature: Feature, tech_names: frozenset[str]) -> Feature:
    """``feature`` with the technology its clause starts with set apart ("Stripe payments").

    The technology is a stack choice, not the feature's name: the phrase is what is left
    ("payments"), and ``technology`` the name as written ("Stripe").
    """
    if feature.action or feature.doers:
        return feature
    words = feature.text.split()
    for count in (2, 1):
        if len(words) > count and " ".join(words[:count]).lower() in tech_names:
            rest = " ".join(words[count:])
            return feature.model_copy(
                update={"phrase": rest, "technology": " ".join(words[:count])}
            )
    return feature


def _feature(text: str, parts: list[str], *, infinitive: bool) -> Feature:
    """The feature of a clause; ``infinitive`` says it followed "to" ("to track X")."""
    if infinitive:
        phrase = _action_parts(text, infinitive=True)[1] or text
        return Feature(text=text, title=capitalise(text), action=True, phrase=phrase)
    if not _is_action(parts[0]):
        doers = doers_of(text)
        return Feature(text=text, title=capitalise(text), action=False, phrase=text, doers=doers)
    title = capitalise(clip(" and ".join(_imperative(p) for p in parts), FEATURE_MAX_CHARS))
    phrase = _action_parts(text, infinitive=False)[1] or text
    return Feature(text=text, title=title, action=True, phrase=phrase)


def _action_parts(text: str, *, infinitive: bool) -> tuple[str, str]:
    """An action clause's verbs (with particles and "and") and its object, articles dropped.

    ``"backs up and restores a database"`` → ``("backs up and restores", "database")``; an
    infinitive's verbs are in their base form ("track water intake").
    """
    verbs = base_verbs() if infinitive else frozenset(third_person_verbs())
    particles = vocabulary().particles
    words = text.split()
    start = 0
    while start < len(words) and (
        words[start].lower() in verbs
        or words[start].lower() in particles
        or words[start].lower() == "and"
    ):
        start += 1
    return " ".join(words[:start]), strip_articles(" ".join(words[start:]))


def _is_action(text: str) -> bool:
    words = text.split()
    return len(words) >= 2 and words[0].lower() in third_person_verbs()


def _is_bare_verb(text: str) -> bool:
    """A verb with at most a particle and no object: "backs up", "syncs"."""
    words = text.lower().split()
    return (
        bool(words)
        and words[0] in third_person_verbs()
        and all(word in vocabulary().particles for word in words[1:])
    )


def _imperative(text: str) -> str:
    first, _, rest = text.partition(" ")
    base = third_person_verbs().get(first.lower())
    return f"{base} {rest}".strip() if base else text
