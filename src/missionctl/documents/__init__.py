"""The document studio's writers: the local writer, the model writer, and the exports.

They read a :class:`~missionctl.documents.sources.DocumentSources` and return Markdown
(docs/documents.md, ADR 0053); they never touch the database.
"""
