"""The grammar of a goal: its leading verb, subject, host system and feature clauses.

How a goal is read:

1. Only the first sentence (and any bullet lines) is read for the subject and features.
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

from missionctl.reading.model import Feature
from missionctl.reading.records import value_words
from missionctl.reading.vocabulary import vocabulary
from missionctl.reading.words import (
    capitalise,
    clip,
    normalise,
    plural,
    strip_articles,
    third_person_verbs,
)

__all__ = ["MAX_FEATURES", "ParsedGoal", "has_parts", "let_title", "parse_goal"]

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
# A clause that bounds the whole product rather than naming something it does ("HIPAA
# applies", "must comply with GDPR", "works offline"): read as a constraint of the goal.
_CONSTRAINT_CLAUSE = re.compile(
    r"\bcompl(?:y|ies|iant|iance)\b|\b(?:applies|apply)$|"
    r"^(?:must |should |has to |needs to )?(?:work|works|run|runs)\s+(?:fully\s+)?offline\b|"
    # A bound on the whole product with the user's figure: "sleeps below 20 µA", "uses under
    # 30 MB of memory", "starts in under 2 seconds", "lasts 3 years on two AA cells". A verb
    # that does something ("alerts when the level drops below 20 %") is not one of these.
    r"^(?:must |should |has to |needs to )?"
    r"(?:sleeps?|draws?|consumes?|uses?|stays?|starts?|loads?|answers?|responds?|fits?|"
    r"weighs?|costs?|boots?)\s+(?:in\s+)?(?:under|below|within|less than|at most|no more than)"
    r"\s+[$€£]?\d|"
    r"^(?:must |should |has to |needs to )?(?:runs?|lasts?)\s+(?:for\s+)?\d+(?:[.,]\d+)?\s*"
    r"(?:years?|months?|weeks?|days?|hours?)\s+on\b|"
    # A retention period: "deletes inactive accounts after 30 days", "keeps files for 7 years".
    r"^(?:must |should )?(?:deletes?|purges?|erases?|anonymi[sz]es?|removes?|expires?)\s+"
    r"(?:[\w-]+\s+){0,4}?(?:after|older than)\s+\d+\s*(?:days?|weeks?|months?|years?)$|"
    r"^(?:must |should )?(?:keeps?|retains?|stores?)\s+(?:[\w-]+\s+){0,4}?for\s+"
    r"(?:up to\s+|at least\s+|at most\s+)?\d+\s*(?:days?|weeks?|months?|years?)$|"
    # An availability bound: "zero-downtime deploys", "no downtime during upgrades".
    r"\bdowntime\b",
    _FLAGS,
)
# "comply with GDPR" is one clause: its "with" must not split it (rejoined after the split).
_BOUND_WITH = re.compile(r"\b(compl(?:y|ies|iant|iance)|accordance)\s+with\s+", _FLAGS)
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+(?P<item>.+)$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


@cache
def _base_verbs() -> frozenset[str]:
    """Verbs in their base form: the feature verbs and the single-word leading verbs."""
    words = vocabulary()
    return frozenset(words.feature_verbs) | {v for v in words.leading_verbs if " " not in v}


@cache
def _subject_end() -> re.Pattern[str]:
    # "an app to track water intake": "to" and a verb end the subject too.
    verbs = "|".join(sorted(_base_verbs()))
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
    first = _SENTENCE_END.split(normalise(prose), maxsplit=1)[0].strip().rstrip(".!?")

    verb: str | None = None
    verb_phrases: list[str] = []
    rest = first
    if match := _leading_verb().match(rest):
        verb = normalise(match.group("verb")).lower()
        verb_phrases.append(match.group(0).strip())
        rest = rest[match.end() :]
    rest = strip_articles(rest)
    host, rest = _take_host(rest, verb)

    end = _subject_end().search(rest)
    described: str | None = None
    if descriptor := _AS_DESCRIPTOR.search(rest[: end.start()] if end else rest):
        # "Mission Control as a production-ready dashboard": the name, and what it is.
        described = rest[descriptor.end() : end.start() if end else None].strip(" .,;:")
        end = descriptor
    subject_text = (rest[: end.start()] if end else rest).strip(" .,;:")
    remainder = rest[end.start() :] if end else ""
    if verb in vocabulary().moving_verbs and " to " in subject_text:
        subject_text = subject_text.split(" to ", 1)[0]  # "Migrate X to Y": X is moved
    phrase = clip(strip_articles(subject_text), SUBJECT_MAX_CHARS)
    if not phrase:
        phrase = clip(normalise(title), SUBJECT_MAX_CHARS) or FALLBACK_SUBJECT
    split = _share_doers(_split_clauses(remainder))
    clauses = [*((c, i) for c, i, _ in split), *((normalise(item), False) for item in bullets)]
    if host and (parts := _coordinated(phrase)):
        # "Add two-factor sign-in and an audit log export to our invoicing portal": two
        # features of a change whose subject is the system they go into.
        clauses = [*((part, False) for part in parts), *clauses]
        phrase = host
    subject, purpose = _split_purpose(phrase)

    constraints = tuple(dict.fromkeys(c for c, _ in clauses if _CONSTRAINT_CLAUSE.search(c)))
    techs = frozenset(tech_names)
    constraints += _stack_choice(clauses, techs)
    clauses = [
        (c, infinitive)
        for c, infinitive in clauses
        if c not in constraints and normalise(c).lower() not in techs
    ]
    features = _features(clauses, phrase, techs)
    features, values = _with_values(features, _value_parts(split, subject))
    verb_phrases.extend(_action_parts(f.text, infinitive=False)[0] for f in features if f.action)
    links = _links(split, subject, {f.text.lower() for f in features} | values)
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
    )


_COORDINATION = re.compile(r"^(?P<first>.+?)\s+and\s+(?:an?|the)\s+(?P<second>.+)$", _FLAGS)


def _stack_choice(clauses: list[tuple[str, bool]], tech_names: frozenset[str]) -> tuple[str, ...]:
    """The goal's clauses that name only a technology, as one constraint ("Uses OIDC").

    "with Stripe and PostgreSQL" names the stack, a bound on every part, not a feature to
    build; the constraint keeps the names as written.
    """
    named = [normalise(c) for c, _ in clauses if normalise(c).lower() in tech_names]
    if not named:
        return ()
    return (f"Uses {' and '.join(dict.fromkeys(named))}",)


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
        infinitive = first.lower() == "to" and rest.split(" ", 1)[0].lower() in _base_verbs()
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
        if doers and joiner in _LISTING and _agrees(text, doers):
            clause = f"{doers} {text}"
        else:
            doers = _doers(text)
        shared.append((clause, infinitive, joiner))
    return shared


def _agrees(text: str, doers: str) -> bool:
    """Whether ``text`` starts with a verb and an object whose form agrees with ``doers``."""
    words = text.lower().split()
    if len(words) < 2:
        return False
    if _is_plural_people(doers.split()[-1]):
        return words[0] in _base_verbs()
    return words[0] in third_person_verbs()


def _is_plural_people(word: str) -> bool:
    return word.lower() in vocabulary().people


def _is_people(word: str) -> bool:
    """Whether ``word`` names people, in the plural ("members") or singular ("family")."""
    return _is_plural_people(word) or plural(word).lower() in vocabulary().people


def let_title(feature: Feature) -> str:
    """The title of a feature its doers do: ``"Let the family scan barcodes"``.

    Plural people read as written ("Let members reserve beds by date"); a singular one takes
    "the" and the verb its base form. A feature without ``doers`` gets its own title.
    """
    if not feature.doers or not feature.text.startswith(feature.doers):
        return feature.title
    people = feature.doers
    words = feature.text[len(people) :].split()
    if not _is_plural_people(people.split()[-1]) and words:
        people = f"the {people}"
        words[0] = third_person_verbs().get(words[0].lower(), words[0])
    return " ".join(["Let", people, *words])


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
        if whole is not None and whole != subject and value_words(text):
            values.setdefault(whole.lower(), []).append(text)
        before = text
    return values


def _with_values(
    features: tuple[Feature, ...], values: dict[str, list[str]]
) -> tuple[tuple[Feature, ...], set[str]]:
    """``features`` with each value clause folded into the feature that has it.

    Returns the features and the folded value clauses in lower case. The feature's title
    keeps the user's words ("Mechanics log repairs with mileage and cost"); a value whose
    owner is no feature (a constraint clause) stays a feature of its own.
    """
    owners = {f.text.lower() for f in features}
    folded = {v.lower() for whole, found in values.items() if whole in owners for v in found}
    kept: list[Feature] = []
    for feature in features:
        if feature.text.lower() in folded:
            continue
        found = values.get(feature.text.lower())
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
        doers = _doers(text)
        return Feature(text=text, title=capitalise(text), action=False, phrase=text, doers=doers)
    title = capitalise(clip(" and ".join(_imperative(p) for p in parts), FEATURE_MAX_CHARS))
    phrase = _action_parts(text, infinitive=False)[1] or text
    return Feature(text=text, title=title, action=True, phrase=phrase)


def _doers(text: str) -> str | None:
    """The people a clause starts with when their verb follows.

    "hostel guests book rooms": plural people and a verb in its base form; "family scans
    barcodes": a singular one (whose plural is among the people) and a verb in the third
    person.
    """
    words = text.split()
    for count in (1, 2):
        if len(words) <= count + 1 or not _is_people(words[count - 1]):
            continue
        verb = words[count].lower()
        plural_people = _is_plural_people(words[count - 1])
        if verb in _base_verbs() if plural_people else verb in third_person_verbs():
            return " ".join(words[:count])
    return None


def _action_parts(text: str, *, infinitive: bool) -> tuple[str, str]:
    """An action clause's verbs (with particles and "and") and its object, articles dropped.

    ``"backs up and restores a database"`` → ``("backs up and restores", "database")``; an
    infinitive's verbs are in their base form ("track water intake").
    """
    verbs = _base_verbs() if infinitive else frozenset(third_person_verbs())
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
