"""The built-in plugins, listed explicitly (no import-time magic)."""

from __future__ import annotations

from agent.core.catalogue import Catalogue
from agent.core.plugin import PluginSpec, Registry
from agent.framework.measurements import catalogue_of
from agent.processors.alerts import SPEC as ALERTS
from agent.processors.audit import SPEC as AUDIT
from collectors.bacnet import SPEC as BACNET
from collectors.camera import SPEC as CAMERA
from collectors.coap import SPEC as COAP
from collectors.host import SPEC as HOST
from collectors.iot_gateways import SPEC as IOT_GATEWAYS
from collectors.modbus import SPEC as MODBUS
from collectors.mqtt import SPEC as MQTT
from collectors.snmp import SPEC as SNMP
from collectors.snmp.enrol import SPEC as ENROLMENT
from collectors.snmp_trap import SPEC as SNMP_TRAP
from collectors.ssh import SPEC as SSH
from collectors.ssh.backup import SPEC as CONFIG_BACKUP
from collectors.syslog import SPEC as SYSLOG
from exporters.alertlog import SPEC as ALERTLOG
from exporters.alertmanager import SPEC as ALERTMANAGER
from exporters.influxdb import SPEC as INFLUXDB
from exporters.mqtt import SPEC as MQTT_EVENTS
from exporters.prometheus import SPEC as PROMETHEUS
from exporters.syslog_forward import SPEC as SYSLOG_FORWARD
from exporters.webhook import SPEC as WEBHOOK
from probes.discovery import SPEC as LAN_DISCOVERY
from probes.dualstack import SPEC as DUALSTACK
from probes.systems import SPEC as INFO_SYSTEMS
from probes.web_ipv6 import SPEC as WEB_IPV6

BUILTIN_SPECS: tuple[PluginSpec, ...] = (
    ALERTS,
    AUDIT,
    HOST,
    MQTT,
    IOT_GATEWAYS,
    MODBUS,
    COAP,
    CAMERA,
    BACNET,
    SNMP,
    ENROLMENT,
    SNMP_TRAP,
    SSH,
    CONFIG_BACKUP,
    SYSLOG,
    INFLUXDB,
    PROMETHEUS,
    SYSLOG_FORWARD,
    MQTT_EVENTS,
    ALERTLOG,
    ALERTMANAGER,
    WEBHOOK,
    DUALSTACK,
    WEB_IPV6,
    INFO_SYSTEMS,
    LAN_DISCOVERY,
)


def builtin_registry() -> Registry:
    return Registry(BUILTIN_SPECS)


def builtin_catalogue() -> Catalogue:
    """Every measurement the agent with its built-in plugins writes (agent/core/catalogue.py)."""
    return catalogue_of(BUILTIN_SPECS)
