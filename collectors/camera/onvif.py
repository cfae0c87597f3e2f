"""A small ONVIF client: plain SOAP 1.2 over HTTP with the standard library (no WSDL stack).

Device service: GetSystemDateAndTime (no authentication, ONVIF Core 5.9.1: a client reads the
clock first), GetDeviceInformation, GetCapabilities (the media service's address); media
service: GetProfiles (encoding, resolution, frame rate, bit rate per profile). Authenticated
calls carry a WS-Security UsernameToken with PasswordDigest = Base64(SHA-1(nonce + created +
password)) (ONVIF Core 5.12.2), `created` corrected by the camera's clock offset so a camera
whose clock is off still accepts it.

Bounded: an answer ≤ 256 kB, no DTD (entity expansion) accepted, every call under a timeout.
Runs in a worker thread (urllib is blocking); the caller awaits it with `asyncio.to_thread`.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from agent.core.model import ErrorType

MAX_ANSWER = 256 * 1024
NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "tds": "http://www.onvif.org/ver10/device/wsdl",
    "trt": "http://www.onvif.org/ver10/media/wsdl",
    "tt": "http://www.onvif.org/ver10/schema",
}
_WSSE = ("http://docs.oasis-open.org/wss/2004/01/"
         "oasis-200401-wss-wssecurity-secext-1.0.xsd")
_WSU = ("http://docs.oasis-open.org/wss/2004/01/"
        "oasis-200401-wss-wssecurity-utility-1.0.xsd")
_DIGEST = ("http://docs.oasis-open.org/wss/2004/01/"
           "oasis-200401-wss-username-token-profile-1.0#PasswordDigest")
_B64 = ("http://docs.oasis-open.org/wss/2004/01/"
        "oasis-200401-wss-soap-message-security-1.0#Base64Binary")


class OnvifError(Exception):
    def __init__(self, error_type: ErrorType, detail: str) -> None:
        super().__init__(detail)
        self.error_type = error_type


@dataclass(frozen=True, slots=True)
class Profile:
    token: str
    name: str
    encoding: str = ""
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    bitrate_kbps: float | None = None


@dataclass(slots=True)
class OnvifInfo:
    clock_drift_s: float | None = None
    manufacturer: str = ""
    model: str = ""
    firmware: str = ""
    serial: str = ""
    hardware_id: str = ""
    profiles: list[Profile] = field(default_factory=list)


def username_token(user: str, password: str, created: str, nonce: bytes) -> str:
    digest = base64.b64encode(hashlib.sha1(nonce + created.encode() + password.encode(),
                                           usedforsecurity=False).digest()).decode()
    return (f'<wsse:Security xmlns:wsse="{_WSSE}" xmlns:wsu="{_WSU}" s:mustUnderstand="1">'
            f"<wsse:UsernameToken><wsse:Username>{_esc(user)}</wsse:Username>"
            f'<wsse:Password Type="{_DIGEST}">{digest}</wsse:Password>'
            f'<wsse:Nonce EncodingType="{_B64}">{base64.b64encode(nonce).decode()}'
            f"</wsse:Nonce><wsu:Created>{created}</wsu:Created></wsse:UsernameToken>"
            "</wsse:Security>")


def _esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def parse(data: bytes) -> ET.Element:
    if len(data) > MAX_ANSWER:
        raise OnvifError(ErrorType.PROTOCOL, f"answer over {MAX_ANSWER} bytes")
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise OnvifError(ErrorType.PROTOCOL, "a DTD in a SOAP answer is refused")
    try:
        return ET.fromstring(data)
    except ET.ParseError as exc:
        raise OnvifError(ErrorType.PARSE, f"not XML: {exc}") from None


def _fault(root: ET.Element) -> str | None:
    f = root.find(".//s:Fault", NS)
    if f is None:
        return None
    codes = [e.text or "" for e in f.iter() if e.tag.endswith("}Value")]
    reason = " ".join((e.text or "").strip() for e in f.iter() if e.tag.endswith("}Text"))
    return f"{' / '.join(codes)}: {reason}".strip()


class Onvif:
    def __init__(self, device_url: str, username: str | None, password: str | None,
                 timeout_s: float) -> None:
        self.device_url = device_url
        self.username, self.password = username, password
        self.timeout_s = timeout_s
        self.offset = dt.timedelta(0)  # camera clock − ours, for WS-Security `created`

    def call(self, url: str, body: str, auth: bool = True) -> ET.Element:
        header = ""
        if auth and self.username is not None:
            created = (dt.datetime.now(dt.UTC) + self.offset).strftime("%Y-%m-%dT%H:%M:%SZ")
            token = username_token(self.username, self.password or "", created,
                                   os.urandom(16))
            header = f"<s:Header>{token}</s:Header>"
        envelope = (f'<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="{NS["s"]}" '
                    f'xmlns:tds="{NS["tds"]}" xmlns:trt="{NS["trt"]}">{header}'
                    f"<s:Body>{body}</s:Body></s:Envelope>")
        req = urllib.request.Request(url, data=envelope.encode(), method="POST", headers={
            "Content-Type": "application/soap+xml; charset=utf-8"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as r:
                data = r.read(MAX_ANSWER + 1)
        except urllib.error.HTTPError as exc:
            data = exc.read(MAX_ANSWER + 1)
            if exc.code == 401:
                raise OnvifError(ErrorType.AUTH, f"{url}: HTTP 401") from None
            if not data:
                raise OnvifError(ErrorType.PROTOCOL, f"{url}: HTTP {exc.code}") from None
        except TimeoutError:
            raise OnvifError(ErrorType.TIMEOUT, f"{url}: no answer") from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, ConnectionRefusedError):
                raise OnvifError(ErrorType.REFUSED, f"{url}: refused") from None
            if isinstance(reason, TimeoutError):
                raise OnvifError(ErrorType.TIMEOUT, f"{url}: no answer") from None
            raise OnvifError(ErrorType.UNREACHABLE, f"{url}: {reason}") from None
        except OSError as exc:
            raise OnvifError(ErrorType.UNREACHABLE, f"{url}: {exc}") from None
        root = parse(data)
        fault = _fault(root)
        if fault is not None:
            auth_fault = "NotAuthorized" in fault or "authori" in fault.lower()
            kind = ErrorType.AUTH if auth_fault else ErrorType.PROTOCOL
            raise OnvifError(kind, f"{url}: SOAP fault {fault[:200]}")
        return root

    def system_time(self) -> dt.datetime:
        root = self.call(self.device_url, "<tds:GetSystemDateAndTime/>", auth=False)
        utc = root.find(".//tds:SystemDateAndTime/tt:UTCDateTime", NS)
        if utc is None:
            raise OnvifError(ErrorType.PARSE, "GetSystemDateAndTime: no UTCDateTime")

        def num(path: str) -> int:
            e = utc.find(path, NS)
            try:
                return int((e.text or "").strip()) if e is not None else -1
            except ValueError:
                return -1

        try:
            return dt.datetime(num("tt:Date/tt:Year"), num("tt:Date/tt:Month"),
                               num("tt:Date/tt:Day"), num("tt:Time/tt:Hour"),
                               num("tt:Time/tt:Minute"), num("tt:Time/tt:Second"), tzinfo=dt.UTC)
        except ValueError as exc:
            raise OnvifError(ErrorType.PARSE, f"GetSystemDateAndTime: {exc}") from None

    def device_information(self, info: OnvifInfo) -> None:
        root = self.call(self.device_url, "<tds:GetDeviceInformation/>")
        r = root.find(".//tds:GetDeviceInformationResponse", NS)
        if r is None:
            raise OnvifError(ErrorType.PARSE, "GetDeviceInformation: no response element")

        def text(name: str) -> str:
            e = r.find(f"tds:{name}", NS)
            return (e.text or "").strip()[:128] if e is not None else ""

        info.manufacturer, info.model = text("Manufacturer"), text("Model")
        info.firmware, info.serial = text("FirmwareVersion"), text("SerialNumber")
        info.hardware_id = text("HardwareId")

    def media_url(self) -> str:
        """The media service address the camera gives, on the host we reached it at (cameras
        behind NAT or with a stale address report one we cannot use)."""
        root = self.call(self.device_url, "<tds:GetCapabilities><tds:Category>Media"
                                          "</tds:Category></tds:GetCapabilities>")
        x = root.find(".//tt:Media/tt:XAddr", NS)
        if x is None or not (x.text or "").strip():
            raise OnvifError(ErrorType.PARSE, "GetCapabilities: no media XAddr")
        path = urlsplit((x.text or "").strip()).path or "/onvif/media_service"
        d = urlsplit(self.device_url)
        return f"{d.scheme}://{d.netloc}{path}"

    def profiles(self, media_url: str) -> list[Profile]:
        root = self.call(media_url, "<trt:GetProfiles/>")
        out: list[Profile] = []
        for p in root.findall(".//trt:GetProfilesResponse/trt:Profiles", NS)[:32]:
            name = p.find("tt:Name", NS)
            v = p.find("tt:VideoEncoderConfiguration", NS)

            def val(path: str, v: ET.Element | None = v) -> str:
                e = v.find(path, NS) if v is not None else None
                return (e.text or "").strip() if e is not None else ""

            def number(s: str) -> float | None:
                try:
                    return float(s)
                except ValueError:
                    return None

            w, h = number(val("tt:Resolution/tt:Width")), number(val("tt:Resolution/tt:Height"))
            out.append(Profile(
                token=p.get("token", "")[:64], name=((name.text or "") if name is not None
                                                       else "").strip()[:64],
                encoding=val("tt:Encoding")[:16], width=int(w) if w is not None else None,
                height=int(h) if h is not None else None,
                fps=number(val("tt:RateControl/tt:FrameRateLimit")),
                bitrate_kbps=number(val("tt:RateControl/tt:BitrateLimit"))))
        return out

    def collect(self) -> OnvifInfo:
        """Clock first (unauthenticated; it also sets the offset the token's `created` needs),
        then identity and profiles."""
        info = OnvifInfo()
        t0 = dt.datetime.now(dt.UTC)
        cam = self.system_time()
        t1 = dt.datetime.now(dt.UTC)
        mid = t0 + (t1 - t0) / 2
        # the camera's clock has whole seconds: drift below one second is not measurable
        self.offset = cam - mid
        info.clock_drift_s = round(self.offset.total_seconds(), 3)
        self.device_information(info)
        info.profiles = self.profiles(self.media_url())
        return info
