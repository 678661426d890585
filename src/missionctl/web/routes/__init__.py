"""One module per page: ``routes/<page>.py`` exposes a ``router``."""
