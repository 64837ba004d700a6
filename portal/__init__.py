"""The enterprise self-service portal: an interface layer over the domain apps."""
