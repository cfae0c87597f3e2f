"""campusmon: the campus network and IoT monitoring agent."""

__version__ = "0.1.0"
