"""Collectors: pollers and listeners that gather data from devices and the host."""
