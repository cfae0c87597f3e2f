"""Shipped register maps (YAML): a package so installs carry them."""
