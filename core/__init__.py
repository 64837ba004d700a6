"""Shared kernel: users and roles, the clock, money, state-change records, TMF helpers."""
