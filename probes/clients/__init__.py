"""Wrappers of third-party libraries: only these modules import them."""
