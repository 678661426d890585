"""Workflow definitions shared by the service, API and CLI tests of the checks.

``TANGLED`` breaks the schema (a negative ``timeout_s``) and, at the same time, the graph (a
cycle, an unknown dependency) and the agents (an unknown agent): every interface must report all
four problems, in ``TANGLED_PROBLEMS``'s order.
"""

TANGLED = """\
name: tangled
steps:
  - id: a
    agent: builtin:noop
    depends_on: [b]
  - id: b
    agent: builtin:nope
    depends_on: [a, ghost]
  - id: c
    agent: builtin:noop
    timeout_s: -3
"""

TANGLED_PROBLEMS = [
    ("steps.0.depends_on", "dependency cycle: a → b → a; remove one of these dependencies"),
    ("steps.1.agent", "unknown agent 'builtin:nope'; did you mean 'builtin:noop'?"),
    ("steps.1.depends_on", "step 'b' depends on 'ghost', which does not exist"),
    ("steps.2.timeout_s", "Input should be greater than 0"),
]
