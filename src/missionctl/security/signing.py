"""Signatures of outbound requests, for the HTTP edge: the scheme lives in ``domain.signing``.

The implementation moved to the domain (pure: ``hmac``, ``hashlib`` and the clock) so that the
HTTP agent, which sits below this layer, signs with the same code that webhooks and receivers use.
"""

from missionctl.domain.signing import SIGNATURE_HEADER, TOLERANCE_S, SignatureError, sign, verify

__all__ = ["SIGNATURE_HEADER", "TOLERANCE_S", "SignatureError", "sign", "verify"]
