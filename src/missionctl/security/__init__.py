"""The HTTP edge's security: who is asking, what they may do, and the headers every page carries.

Shared by the JSON API and the pages (which may not import each other): session cookies and
CSRF tokens (``sessions``), request authentication and per-route permission declarations
(``guard``), rate limits (``limits``) and response headers (``headers``). ADR 0011.
"""
