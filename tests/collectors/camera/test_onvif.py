"""The ONVIF client against recorded answers of real cameras (onvif_recorded/SOURCES.md).
An ONVIF camera cannot run here: onvif_server.py serves those recordings on loopback and checks
WS-Security as a camera does."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from agent.core.model import ErrorType
from collectors.camera.onvif import Onvif, OnvifError, OnvifInfo, Profile, parse
from tests.collectors.camera.onvif_server import OnvifCamera


@pytest.fixture(scope="module")
def onvif_camera() -> Iterator[OnvifCamera]:
    cam = OnvifCamera("admin", "Campus#2024").start()
    yield cam
    cam.stop()


def client(cam: OnvifCamera, password: str = "Campus#2024") -> Onvif:
    return Onvif(f"http://127.0.0.1:{cam.port}/onvif/device_service", "admin", password, 3.0)


def test_identity_clock_and_profiles_as_recorded(onvif_camera: OnvifCamera) -> None:
    before = dt.datetime.now(dt.UTC)
    got = client(onvif_camera).collect()
    after = dt.datetime.now(dt.UTC)
    assert (got.manufacturer, got.model, got.firmware, got.hardware_id) == (
        "HIKVISION", "DS-2CD2085FWD-I", "V5.5.82 build 190909", "88")
    # the recorded camera clock (2020-04-29 07:25:17 UTC) against ours: whole seconds
    assert got.clock_drift_s is not None
    low = (onvif_camera.clock() - after).total_seconds() - 1.5
    high = (onvif_camera.clock() - before).total_seconds() + 1.5
    assert low <= got.clock_drift_s <= high
    # the recorded Hikvision profiles; the media service reached on the host we used, not
    # the camera's own 192.168.1.110
    assert got.profiles == [
        Profile("Profile_1", "mainStream", "H264", 1920, 1080, 10.0, 16384.0),
        Profile("Profile_2", "subStream", "H264", 640, 360, 25.0, 768.0)]
    assert onvif_camera.calls[-4:] == ["GetSystemDateAndTime", "GetDeviceInformation",
                                       "GetCapabilities", "GetProfiles"]


def test_wrong_password_is_an_auth_error(onvif_camera: OnvifCamera) -> None:
    with pytest.raises(OnvifError) as ei:
        client(onvif_camera, "wrong").collect()
    assert ei.value.error_type is ErrorType.AUTH
    assert "NotAuthorized" in str(ei.value) and "wrong" not in str(ei.value)


def test_a_token_stamped_with_our_clock_is_refused_by_the_camera(
        onvif_camera: OnvifCamera) -> None:
    """Why the client reads the clock first: the camera is years behind."""
    c = client(onvif_camera)
    with pytest.raises(OnvifError) as ei:
        c.device_information(OnvifInfo())
    assert ei.value.error_type is ErrorType.AUTH


def test_broken_answers_are_typed_never_a_crash(onvif_camera: OnvifCamera) -> None:
    onvif_camera.broken = True
    try:
        with pytest.raises(OnvifError) as ei:
            client(onvif_camera).collect()
        assert ei.value.error_type is ErrorType.PARSE
    finally:
        onvif_camera.broken = False
    with pytest.raises(OnvifError) as ei:
        parse(b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>')
    assert ei.value.error_type is ErrorType.PROTOCOL
    with pytest.raises(OnvifError):
        parse(b"<x>" + b"a" * (300 * 1024) + b"</x>")


def test_refused_port_is_typed() -> None:
    from tests.servers import free_port

    c = Onvif(f"http://127.0.0.1:{free_port()}/onvif/device_service", None, None, 2.0)
    with pytest.raises(OnvifError) as ei:
        c.collect()
    assert ei.value.error_type is ErrorType.REFUSED
