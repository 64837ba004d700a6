"""Product lifecycle management (eTOM SIP): specifications, offerings, prices, bundles."""
