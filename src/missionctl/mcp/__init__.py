"""Mission Control over the Model Context Protocol (the official ``mcp`` SDK).

One server (``server.build_server``) of resources (``resources``) and tools (``tools_work``,
``tools_governance``) over the services, reached two ways:

- Streamable HTTP at ``/mcp`` in the app (``http``), authenticated by an API token;
- stdio (``stdio``, ``missionctl mcp``), on the local database as the identity of a token.

Every tool and resource checks the same ``Permission`` as the matching route
(``caller.permitted``) and acts as the caller's identity (ADR 0063, docs/mcp.md).
"""
