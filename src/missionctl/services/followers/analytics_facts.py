"""The analytics facts follow the log: funnel, trends and retention read them (ADR 0068).

Each window of events is folded into the ``analytics_*`` tables by the domain's rules
(``domain.analytics.Facts``); who counts as a person comes from the definitions file. The reads
are ``services.usecases.analytics``.
"""

from sqlalchemy.orm import Session

from missionctl.domain.analytics import People
from missionctl.repositories.analytics import fold_events
from missionctl.repositories.followers import Window
from missionctl.schemas.analytics import load_definitions
from missionctl.services.followers.follower import Follower
from missionctl.services.runtime.context import ServiceContext


def people_rules() -> People:
    """Who counts as a person, from the definitions file."""
    rules = load_definitions().people
    return People(tuple(rules.test_user_patterns), frozenset(rules.not_activity))


def _fold(session: Session, window: Window, _ctx: ServiceContext) -> None:
    fold_events(session, after=window.after, upto=window.upto, rules=people_rules())


ANALYTICS_FACTS = Follower(name="analytics", description="the analytics facts", fold=_fold)
