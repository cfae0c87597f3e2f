from exporters.influxdb.plugin import SPEC

__all__ = ["SPEC"]
