"""``missionctl demo seed``: a dated history written through the services (ADR 0071)."""
