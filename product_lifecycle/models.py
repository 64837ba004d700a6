"""Catalog models arrive with the product-catalog issue."""
