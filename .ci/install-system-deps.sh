#!/usr/bin/env bash
# Installs the real servers and tools that tests, demo and benchmarks talk to
# (Debian/Ubuntu packages). Idempotent; never starts the packages' own services.
set -euo pipefail
PACKAGES=(
  mosquitto mosquitto-clients            # MQTT broker for collectors/mqtt and the mqtt exporter
  victoria-metrics                       # central time-series store
  prometheus prometheus-alertmanager     # scrape /metrics; alert delivery; promtool
  snmpd snmp                             # net-snmp agent (v3, IPv6) and snmpbulkwalk (bench peer)
  snmptrapd                              # net-snmp trap receiver (traps bench peer); snmptrap/snmpinform are in snmp
  rsyslog bsdutils                       # central syslog receiver (syslog_forward tests, bench peer); logger
  prometheus-snmp-exporter               # SNMP bench peer
  fping dnsmasq iproute2 iputils-ping    # probes: peer, DNS/DHCP in namespaces, netns
  ieee-data                              # MAC OUI -> vendor
  tcpdump                                # lets scapy compile BPF filters (LAN discovery)
  sqlite3 procps curl
  git                                    # config_backup's repository (git CLI)
  python3-venv                           # .venv-sim (snmpsim on Debian's Python)
  chromium                               # headless screenshot of the HTML report; report.pdf
  poppler-utils                          # pdfinfo/pdftoppm/pdftotext read report.pdf back (tests)
  systemd                                # systemd-analyze verify of the packaged unit (tests)
  fonts-wqy-microhei                     # Chinese glyphs in that screenshot
  gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  python3-gi                             # an RTSP camera (test pattern) for collectors/camera
)
if [ "$(id -u)" -ne 0 ]; then
  echo "install-system-deps: not root; skipping apt (tests needing these servers will skip)" >&2
  exit 0
fi
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
# Keep package maintainer scripts from starting daemons on the host.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
trap 'rm -f /usr/sbin/policy-rc.d' EXIT
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
