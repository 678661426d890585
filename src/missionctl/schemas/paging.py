"""The cursors lists hand out, as OpenAPI patterns: what the services read back.

A cursor is opaque to clients, but the document still says which texts a list reads, so that
a request it allows is not refused. Each pattern admits the empty text (no cursor: the first
page) and exactly the values the service accepts.
"""

MAX_PAGE_SIZE = 200
"""The most rows one page of a keyset-paged list (or of a log search) holds."""

_HEX = "[0-9A-Fa-f]"
ID_CURSOR = f"^({_HEX}{{8}}-?{_HEX}{{4}}-?{_HEX}{{4}}-?{_HEX}{{4}}-?{_HEX}{{12}})?$"
"""``services.usecases.paging.keyset_cursor``: the id of the previous page's last row."""
SEARCH_CURSOR = "^(0*[1-9][0-9]{0,17})?$"
"""``services.usecases.search``: a positive entry id (below 2**63)."""
MEMORY_CURSOR = "^(0*([1-9][0-9]{0,3}|10000))?$"
"""``services.usecases.memory``: a positive offset of at most ``MAX_OFFSET`` (10,000)."""
