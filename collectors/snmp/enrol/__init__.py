"""Device enrolment: `campusmon enrol` and the scheduled `enrolment` plugin.

A second SPEC in the SNMP collector's folder (like collectors/ssh/backup): enrolment is SNMP
identification plus a sweep, and shares the collector's session factory, `DevicePoller`,
identity rules and LLDP parsing instead of copying them into agent/shared.
"""

from collectors.snmp.enrol.plugin import SPEC

__all__ = ["SPEC"]
