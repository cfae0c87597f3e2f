"""What the MQTT listener writes (the catalogue, agent/core/catalogue.py)."""

from __future__ import annotations

from agent.core.catalogue import FieldKind, Measurement, counter, gauge, state, tag

# the classes' known readings (payloads.py models); a device may send more numbers, kept as
# gauges under their own names (`open_fields`)
_TELEMETRY = (
    gauge("fps", "", "camera frames per second"),
    gauge("bitrate_kbps", "kbps", "camera stream bit rate"),
    state("recording", "camera/NVR recording: 1 yes, 0 no"),
    gauge("temperature_c", "celsius", "device or room temperature"),
    gauge("packet_loss_percent", "percent", "camera stream packet loss"),
    gauge("channels_total", "", "NVR channels configured"),
    gauge("channels_recording", "", "NVR channels recording"),
    gauge("disks_total", "", "NVR disks"),
    gauge("disks_failed", "", "NVR disks failed"),
    gauge("storage_used_percent", "percent", "NVR storage used"),
    gauge("retention_days", "days", "NVR recording retention"),
    state("door_open", "door access: 1 open"),
    state("locked", "door access: 1 locked"),
    state("tamper", "door access: 1 tamper alarm"),
    counter("swipes_total", "", "door access card swipes"),
    counter("denied_total", "", "door access swipes denied"),
    counter("punches_total", "", "attendance punches"),
    counter("failed_total", "", "failed punches / payments"),
    gauge("users_enrolled", "", "attendance users enrolled"),
    state("playing", "broadcast: 1 playing"),
    gauge("volume_percent", "percent", "broadcast volume"),
    gauge("zones_active", "", "broadcast zones playing"),
    gauge("amplifier_temp_c", "celsius", "broadcast amplifier temperature"),
    counter("transactions_total", "", "payment transactions"),
    counter("amount_fen_total", "fen", "payment amount (分)"),
    gauge("offline_pending", "", "payments waiting to be uploaded"),
    counter("matches_total", "", "biometric matches"),
    counter("rejects_total", "", "biometric rejects"),
    gauge("templates_enrolled", "", "biometric templates enrolled"),
    gauge("match_ms", "milliseconds", "biometric match time"),
    gauge("humidity_percent", "percent", "relative humidity"),
    gauge("co2_ppm", "ppm", "CO2 concentration"),
    gauge("pm25_ugm3", "ug/m3", "PM2.5 concentration"),
    gauge("noise_db", "dB", "noise level"),
    gauge("illuminance_lux", "lux", "illuminance"),
    state("projector_on", "smart classroom: 1 projector on"),
    state("display_on", "smart classroom: 1 display on"),
    gauge("power_w", "watts", "smart classroom power draw"),
    gauge("occupancy", "", "people in the room"),
    gauge("lamp_hours", "hours", "projector lamp hours"),
)

MEASUREMENTS: tuple[Measurement, ...] = (
    Measurement(
        "iot_device", "liveness of one IoT device, every report_interval_secs",
        tags=(tag("iot_class", "payload class: camera, nvr, door_access … wifi_survey"),),
        fields=(state("up", "1 up, 0 down (absent until known)"),
                gauge("last_seen_age_seconds", "seconds", "since the last message (once seen)"),
                gauge("heartbeat_interval_seconds", "seconds", "expected heartbeat interval"),
                counter("messages_total", "", "messages received from the device"),
                counter("bad_payloads_total", "", "payloads set aside as bad"))),
    Measurement(
        "iot_bad_payload", "bad payloads per device, topic and reason",
        tags=(tag("topic", "MQTT topic (bounded per device; 'other' past the bound)"),
              tag("reason", "json / schema / oversized / stream")),
        fields=(counter("count_total", "", "bad payloads"),)),
    Measurement(
        "iot_telemetry", "a class's numeric readings (booleans as 0/1; strings dropped)",
        tags=(tag("iot_class", "payload class"),
              tag("stream", "telemetry, or status for numbers in heartbeats")),
        fields=_TELEMETRY, open_fields=FieldKind.GAUGE),
    Measurement(
        "cellular_5g", "5G signal and throughput reported by a CPE",
        tags=(tag("band", "NR band, e.g. n78"), tag("cell", "cell id")),
        fields=(gauge("rsrp_dbm", "dBm", "reference signal received power"),
                gauge("rsrq_db", "dB", "reference signal received quality"),
                gauge("sinr_db", "dB", "signal to interference and noise ratio"),
                gauge("dl_mbps", "Mbps", "downlink throughput, when reported"),
                gauge("ul_mbps", "Mbps", "uplink throughput, when reported"))),
    Measurement(
        "wifi_survey", "a Wi-Fi survey sensor's reading of one network; room from the sensor",
        tags=(tag("band", "2.4GHz / 5GHz / 6GHz"), tag("ssid", "SSID, when reported")),
        fields=(gauge("rssi_dbm", "dBm", "received signal strength"),
                gauge("channel", "", "channel number, when reported"),
                gauge("noise_dbm", "dBm", "noise floor, when reported"))),
    Measurement(
        "iot_unregistered", "messages from ids that are not inventory devices (no device tags)",
        tags=(tag("device_id", "the id in the topic (bounded by max_unregistered_tracked)"),),
        fields=(counter("messages_total", "", "messages received"),)),
    Measurement(
        "mqtt_client", "the listener's broker session (no device tags)",
        tags=(tag("broker", "host:port"),),
        fields=(state("connected", "1 connected, 0 not"),
                counter("connects_total", "", "connections made"),
                counter("disconnects_total", "", "connections lost"),
                counter("subscribe_failures_total", "", "subscriptions refused"),
                counter("undecodable_total", "", "topics that are not UTF-8"),
                counter("received_total", "", "messages handed over"),
                counter("dropped_total", "", "messages dropped: hand-over queue full"),
                gauge("queue_depth", "", "messages waiting in the hand-over queue"),
                counter("processed_total", "", "messages processed"),
                counter("unmatched_topics_total", "", "topics no template matches"),
                counter("other_campus_total", "", "messages for another campus"),
                counter("unregistered_messages_total", "", "messages from unknown ids"),
                gauge("unregistered_devices", "", "unknown ids tracked"),
                counter("retained_skipped_total", "", "retained messages without a device "
                        "timestamp, skipped"),
                counter("bad_payloads_total", "", "payloads set aside as bad"))),
)
