"""Assurance (eTOM OPS): trouble tickets, SLA repair clocks, NOC queue, maintenance notices."""
