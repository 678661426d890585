"""The log-search index follows the log, off the appending path (ADR 0047).

Appends write no search entry: this follower copies the entries of new events into the index
every second, and a search catches it up first (``services.usecases.search``), so a search finds
every event committed before it began while the work it does stays small.
"""

from sqlalchemy.orm import Session

from missionctl.repositories.followers import Window
from missionctl.repositories.search import index_events
from missionctl.services.followers.follower import Follower
from missionctl.services.runtime.context import ServiceContext


def _fold(session: Session, window: Window, _ctx: ServiceContext) -> None:
    index_events(session, after=window.after, upto=window.upto)


SEARCH_INDEX = Follower(name="search", description="the log-search index", fold=_fold)
