"""Billing (eTOM OPS): rating, invoices, late fees, dunning, payments, PDF invoices."""
