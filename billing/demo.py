"""Demo data for billing (filled in below)."""


def seed() -> list[str]:
    return []
