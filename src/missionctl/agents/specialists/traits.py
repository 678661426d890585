"""Traits of kinds of software, found by keywords, and the threats typical for each.

A trait ("api", "mobile", "pii", …) is a property of the mission found in its goal, title,
constraints and repository context. ``_THREATS`` is data: ``trait severity/likelihood: title``
then an indented ``→ mitigation`` line; trait ``*`` applies to every mission.
"""

import re
from dataclasses import dataclass

TRAIT_PATTERNS: dict[str, str] = {
    "api": r"api|rest|graphql|grpc|endpoints?|gateway|webhooks?|backend|microservices?",
    "web": r"web|dashboard|browser|site|cockpit|portal|page|front-?end|ui|shortener|saas",
    "mobile": r"mobile|ios|android|react native|flutter|app store|push",
    "data": r"pipelines?|warehouse|etl|elt|ingests?|dbt|parquet|csv|revenue tables",
    "ml": r"models?|predictions?|churn|drift|machine learning|ml|retraining|recommendations?",
    "cli": r"command-line|cli|terminal",
    "library": r"library|sdk|package",
    "infra": r"terraform|kubernetes|k8s|operator|aws|gcp|azure|helm|infrastructure|three-tier",
    "auth": r"sso|single sign-on|oidc|saml|oauth|login|sign[- ]in|role-based|rbac|auth\w*|access",
    "realtime": r"websockets?|real-time|realtime|multiplayer|live",
    "public": r"public|shortener|anonymous|links?|extension|open",
    "pii": r"patients?|clinic|health|medical|personal|customers?|gdpr|hipaa|members?|users?",
    "payments": r"invoices?|payments?|billing|checkout|stripe|revenue",
    "migration": r"migrate|migration|upgrade|downtime",
    "bot": r"bot|slack|discord|chat",
    "ai": r"ai|llm|openai|gpt|insights?|summari[sz]\w*",
    "firmware": r"firmware|ble|embedded|battery|sensor|logger",
    "extension": r"browser extension|extension|trackers?",
    "scheduled": r"nightly|daily|weekly|hourly|cron|schedule\w*|renewal|reminders?",
    "offline": r"offline",
}
_TRAITS = {
    name: re.compile(rf"(?<![\w-])(?:{pattern})(?![\w-])", re.I)
    for name, pattern in TRAIT_PATTERNS.items()
}


def detect_traits(text: str) -> frozenset[str]:
    """The traits whose keywords occur in ``text`` (whole words, case-insensitive)."""
    return frozenset(name for name, pattern in _TRAITS.items() if pattern.search(text))


@dataclass(frozen=True, slots=True)
class Threat:
    """A threat typical for a kind of software, and its usual mitigation."""

    trait: str
    title: str
    severity: str
    likelihood: str
    mitigation: str


_THREATS = """
api critical/medium: Broken object-level authorisation (one caller reads another's records)
  → Check ownership in the service layer on every object; test it from the authorisation matrix.
api high/medium: Mass assignment and unvalidated input
  → Request schemas that refuse unknown fields; server-side validation naming the field.
api medium/medium: Resource exhaustion by unbounded requests
  → Pagination limits, request size caps, per-client rate limits, timeouts.
web high/medium: Cross-site scripting through user-supplied text
  → Auto-escaping templates, a strict Content-Security-Policy, no inline scripts.
web medium/medium: Cross-site request forgery on state-changing forms
  → SameSite cookies plus CSRF tokens on every unsafe method.
public high/high: Abuse of public endpoints (spam, enumeration, phishing redirects)
  → Rate limits, unguessable identifiers, URL reputation checks, abuse reporting and takedown.
auth high/medium: Account takeover (credential stuffing, token theft)
  → Short-lived tokens, revocation, MFA for admins, lockout and alerting on bursts of failures.
pii critical/medium: Exposure of personal data
  → Classify fields, minimise collection, encrypt at rest, redact logs, audit every access.
payments high/low: Tampering with amounts or double charging
  → Amounts computed server-side in integer minor units; idempotency keys on payment calls.
mobile high/medium: Secrets or tokens stored insecurely on the device
  → Keychain/Keystore only, no secrets in the bundle, certificate validation, remote logout.
data high/medium: Credentials to source systems leaked or over-privileged
  → Read-only scoped credentials from a secret manager; rotate; never in job logs.
data high/medium: Silent data corruption (duplicates, partial loads)
  → Idempotent loads keyed on source ids, row-count and freshness checks that fail the run.
ml medium/high: Training-serving skew and silent model drift
  → One feature code path for training and serving; drift alerts; rollback to the last model.
ml medium/low: Poisoned or biased training data
  → Validate training data ranges, review features for proxies of protected attributes.
cli medium/medium: Untrusted input files (path traversal, decompression bombs)
  → Resolve and confine paths, cap sizes and row counts, stream instead of loading whole files.
library high/low: Supply-chain compromise of the published package
  → Trusted publishing, signed releases, pinned build dependencies, 2FA for maintainers.
infra critical/medium: Over-privileged cloud identities and public buckets
  → Least-privilege roles per component, deny-by-default policies, policy checks in CI.
infra high/medium: Secrets in infrastructure state or variables
  → Encrypted remote state with locking; secrets from the secret manager, never in code.
realtime medium/medium: Connection floods and message spoofing over WebSockets
  → Authenticate the handshake, cap connections and message rates, validate every message.
bot high/medium: Prompt injection and leakage of private channel content
  → Treat channel text as data, narrow the bot's scopes, keep summaries in the workspace.
ai medium/medium: Model output presented as fact or leaking sensitive input
  → Label generated text, keep a deterministic fallback, send no personal data to the model.
firmware high/medium: Unsigned firmware updates and open BLE pairing
  → Signed images verified by the bootloader; authenticated pairing with bonding.
extension high/medium: Over-broad extension permissions
  → Request the narrowest host permissions, no remote code, review against store policies.
migration critical/medium: Data loss or extended downtime during the cut-over
  → Rehearse on a production-sized copy, verify counts and checksums, keep a tested rollback.
* high/medium: Secrets committed to the repository or printed in logs
  → Secret scanning in CI, secrets from the environment or a manager, log redaction.
* medium/high: Vulnerable third-party dependencies
  → Lock files, automated dependency updates and an audit step in CI.
"""
_HEADER = re.compile(r"^(?P<trait>\S+) (?P<severity>\w+)/(?P<likelihood>\w+): (?P<title>.+)$")


def _parse(spec: str) -> tuple[Threat, ...]:
    threats: list[Threat] = []
    for header, mitigation in zip(*[iter(spec.strip().splitlines())] * 2, strict=True):
        match = _HEADER.match(header)
        assert match is not None, header  # the table above is ours; a typo fails at import
        threats.append(
            Threat(mitigation=mitigation.strip().removeprefix("→ "), **match.groupdict())
        )
    return tuple(threats)


THREATS: tuple[Threat, ...] = _parse(_THREATS)


def threats_for(traits: frozenset[str]) -> list[Threat]:
    """The threats typical for software with ``traits``, then those for every mission."""
    return [t for t in THREATS if t.trait in traits] + [t for t in THREATS if t.trait == "*"]
