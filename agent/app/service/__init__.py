"""The systemd unit shipped in the package and `campusmon install-service` that writes it."""
