"""A real SSH server (asyncssh) on loopback that behaves like campus switches' CLIs.

One server, one port; the login name picks the device personality. Each has its login banner
(Huawei also asks to change the initial password), its prompts (`<HUAWEI>`, `<H3C>`,
`Ruijie>`/`Ruijie#`, `Switch>`/`Switch#`, `ZXCTN-6120H>`/`#`, `[HUAWEI]` in system-view), its
privilege levels (`enable` + password on RGOS, IOS and ZXROS), its pager (`  ---- More ----` on
VRP/Comware, ` --More-- ` on IOS/RGOS/ZXROS) until the session turns paging off with the command
the real device accepts, its error message for unknown or unauthorised commands, and command
outputs taken from real devices (data/SOURCES.md). Misbehaving personalities: `hang` (stops
answering part-way through a command), `mute` (never shows a prompt after login), `garbage`
(answers nonsense), `nopager` (refuses to turn paging off); and any wrong password.

Input is read raw (no asyncssh line editor) and echoed character by character, as a device does:
netmiko waits for the echo of every command it sends.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import asyncssh

DATA = Path(__file__).resolve().parent / "data"

HUAWEI_MORE = ("  ---- More ----", "\x1b[42D" + " " * 42 + "\x1b[42D")
CISCO_MORE = (" --More-- ", "\b" * 10 + " " * 10 + "\b" * 10)


def _data(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


@dataclass(frozen=True)
class Personality:
    username: str
    password: str | None  # None: public key only
    hostname: str
    user_prompt: str  # format with hostname
    priv_prompt: str | None  # None: no privilege levels (VRP/Comware user view)
    enable_password: str | None
    paging_off: Mapping[str, str]  # command → its reply
    more: tuple[str, str]  # pager prompt, and what erases it
    error: str  # reply to an unknown command
    commands: Mapping[str, str]
    privileged_only: frozenset[str] = frozenset()
    banner: str = ""
    hang_after: Mapping[str, int] = field(default_factory=dict)  # command → lines, then silence
    garbage: bool = False
    page_lines: int = 23
    login_question: str = ""  # asked after the banner; any answer goes on to the prompt
    mute: bool = False  # accepts the login, then never shows a prompt (overloaded CPU)


_VRP_ERROR = "{caret}^\nError: Unrecognized command found at '^' position."
_CMW_ERROR = "{caret}^\n % Unrecognized command found at '^' position."
_IOS_ERROR = "{caret}^\n% Invalid input detected at '^' marker."

_HUAWEI_BANNER = ("\nInfo: The max number of VTY users is 10, and the number\n"
                  "      of current VTY users on line is 1.\n"
                  "      The current login time is 2026-11-22 10:00:00+08:00.\n")
_H3C_BANNER = (
    "\n******************************************************************************\n"
    "* Copyright (c) 2004-2017 New H3C Technologies Co., Ltd. All rights reserved.*\n"
    "* Without the owner's prior written consent,                                 *\n"
    "* no decompiling or reverse-engineering shall be allowed.                    *\n"
    "******************************************************************************\n\n")
# VRP asks this on every login while the initial password is unchanged; netmiko answers N
_VRP_CHANGE_PASSWORD = ("Warning: The initial password poses security risks.\n"
                        "The password needs to be changed. Change now? [Y/N]: ")
_VRP_PAGING = {"screen-length 0 temporary":
               "Info: The configuration takes effect on the current user terminal interface "
               "only."}

GARBAGE = ("\x1b[?25l@@@@ 0x7f3c 0x0000 ####\n%%%% !!~~ \x00\x7f\n"
           "\u2592\u2592\u2592 segmentation fault at 0xdeadbeef\n")


def personalities() -> dict[str, Personality]:
    huawei_cmds = {
        "display version": _data("huawei_display_version.raw"),
        "display ipv6 interface brief": _data("huawei_display_ipv6_interface_brief.raw"),
        "display ap all": _data("huawei_display_ap_all.raw"),
        "display lldp neighbor": _data("huawei_display_lldp_neighbor.raw"),
        "display current-configuration": _data("huawei_display_current-configuration.raw"),
    }
    ps = [
        Personality("huawei", "Huawei@123", "HUAWEI", "<{h}>", None, None, _VRP_PAGING,
                    HUAWEI_MORE, _VRP_ERROR, huawei_cmds, banner=_HUAWEI_BANNER,
                    login_question=_VRP_CHANGE_PASSWORD),
        Personality("h3c", None, "H3C", "<{h}>", None, None, {"screen-length disable": ""},
                    HUAWEI_MORE, _CMW_ERROR, {
                        "display version": _data("h3c_display_version.raw"),
                        "display ipv6 interface brief":
                            _data("h3c_display_ipv6_interface_brief.raw"),
                        "display lldp neighbor-information list":
                            _data("h3c_display_lldp_neighbor-information_list.raw"),
                        "display current-configuration":
                            _data("h3c_display_current-configuration.raw"),
                    }, banner=_H3C_BANNER),
        Personality("ruijie", "Ruijie@123", "Ruijie", "{h}>", "{h}#", "ruijie-en",
                    {"terminal length 0": "", "terminal width 256": ""}, CISCO_MORE, _IOS_ERROR,
                    {"show version": _data("ruijie_show_version.raw"),
                     "show ipv6 interface brief": _data("ruijie_show_ipv6_interface_brief.raw"),
                     "show running-config": _data("ruijie_show_running-config.raw")},
                    privileged_only=frozenset({"show ipv6 interface brief",
                                               "show running-config"})),
        Personality("cisco", "Cisco@123", "Switch", "{h}>", "{h}#", "cisco-en",
                    {"terminal length 0": "", "terminal width 511": ""}, CISCO_MORE, _IOS_ERROR,
                    {"show version": _data("cisco_show_version.raw"),
                     "show ipv6 interface brief": _data("cisco_show_ipv6_interface_brief.raw"),
                     "show lldp neighbors": _data("cisco_show_lldp_neighbors.raw"),
                     "show running-config": _data("cisco_show_running-config.raw")},
                    privileged_only=frozenset({"show ipv6 interface brief",
                                               "show lldp neighbors", "show running-config"}),
                    banner="\nAuthorized access only.\n"),
        Personality("zte", "Zte@1234", "ZXCTN-6120H", "{h}>", "{h}#", "zte-en",
                    {"terminal length 0": ""}, CISCO_MORE, _IOS_ERROR,
                    {"show version": _data("zte_show_version.raw"),
                     "show running-config": _data("zte_show_running-config.raw")},
                    privileged_only=frozenset({"show running-config"})),
        # ArubaOS mobility controller: "(name) >", enable, `no paging`
        Personality("aruba", "Aruba@123", "OXID-IZE01", "({h}) >", "({h}) #", "aruba-en",
                    {"no paging": ""}, CISCO_MORE, _IOS_ERROR,
                    {"show running-config": _data("aruba_show_running-config.raw")},
                    privileged_only=frozenset({"show running-config"})),
        # A Kunpeng server running Kylin V10 with DM8 and TongWeb (data/SOURCES.md): a shell,
        # no pager, the three commands collectors/ssh/servers.py runs
        Personality("kylin", "Kylin@123", "localhost", "[root@{h} ~]#", None, None, {},
                    CISCO_MORE, "-bash: command not found",
                    {"cat /etc/os-release; echo KERNEL=$(uname -r)":
                         _data("linux_kylin_os-release.raw"),
                     "cat /proc/cpuinfo": _data("linux_kunpeng_cpuinfo.raw"),
                     "ps -eo comm=,args=": _data("linux_ps.raw")},
                    page_lines=1_000_000),
        Personality("hang", "Hang@123", "HANG-SW", "<{h}>", None, None, _VRP_PAGING,
                    HUAWEI_MORE, _VRP_ERROR, huawei_cmds, banner=_HUAWEI_BANNER,
                    hang_after={"display ipv6 interface brief": 6,
                                "display current-configuration": 40}),
        Personality("nopager", "NoPager@123", "OLD-VRP", "<{h}>", None, None, {},
                    HUAWEI_MORE, _VRP_ERROR, huawei_cmds, banner=_HUAWEI_BANNER),
        Personality("mute", "Mute@123", "MUTE-SW", "<{h}>", None, None, _VRP_PAGING,
                    HUAWEI_MORE, _VRP_ERROR, huawei_cmds, banner=_HUAWEI_BANNER, mute=True),
        Personality("garbage", "Garbage@123", "JUNK-SW", "<{h}>", None, None, _VRP_PAGING,
                    HUAWEI_MORE, _VRP_ERROR, huawei_cmds, garbage=True),
    ]
    return {p.username: p for p in ps}


class _Closed(Exception):
    pass


class _Cli:
    """One login session of one personality."""

    MAX_COMMANDS = 500  # every loop bounded

    def __init__(self, p: Personality, process: asyncssh.SSHServerProcess[str],
                 on_config: Callable[[], None] = lambda: None) -> None:
        self.p = p
        self.proc = process
        self.on_config = on_config  # told when the session enters system-view
        self.in_config = False
        self.buf = ""
        self.privileged = p.priv_prompt is None
        self.paging = True
        self._skip_lf = False

    @property
    def prompt(self) -> str:
        if self.in_config:
            return f"[{self.p.hostname}]"
        fmt = self.p.priv_prompt if (self.privileged and self.p.priv_prompt) else self.p.user_prompt
        return fmt.format(h=self.p.hostname)

    def write(self, text: str) -> None:
        if self.proc.stdout.channel.is_closing():  # the client left (netmiko: "quit", close)
            raise _Closed
        self.proc.stdout.write(text.replace("\r\n", "\n").replace("\n", "\r\n"))

    async def getch(self) -> str:
        while not self.buf:
            try:
                data = await self.proc.stdin.read(1024)
            except asyncssh.TerminalSizeChanged:
                continue
            if not data:
                raise _Closed
            self.buf += data
        ch, self.buf = self.buf[0], self.buf[1:]
        return ch

    async def readline(self, *, echo: bool = True) -> str:
        line = ""
        for _ in range(4096):
            ch = await self.getch()
            if ch == "\n" and self._skip_lf:
                self._skip_lf = False
                continue
            self._skip_lf = ch == "\r"
            if ch in "\r\n":
                self.write("\n")
                return line
            if ch in "\x7f\b":
                if line:
                    line = line[:-1]
                    if echo:
                        self.write("\b \b")
                continue
            line += ch
            if echo:
                self.write(ch)
        return line

    async def run(self) -> None:
        self.write(self.p.banner)
        if self.p.mute:
            for _ in range(100_000):  # swallow input until the client leaves
                await self.getch()
        if self.p.login_question:
            self.write(self.p.login_question)
            await self.readline()
        self.write(self.prompt)
        for _ in range(self.MAX_COMMANDS):
            line = (await self.readline()).strip()
            if self.in_config and line in ("quit", "return"):
                self.in_config = False
                self.write(self.prompt)
                continue
            if line in ("quit", "exit", "logout"):
                return
            if line:
                await self.execute(line)
            self.write(self.prompt)

    async def execute(self, line: str) -> None:
        p = self.p
        if line in p.paging_off:
            self.paging = False
            if p.paging_off[line]:
                self.write(p.paging_off[line] + "\n")
            return
        if line == "system-view" and p.priv_prompt is None:  # VRP / Comware configuration
            self.in_config = True
            self.on_config()
            self.write("System View: return to User View with Ctrl+Z.\n")
            return
        if line == "enable" and p.priv_prompt is not None:
            await self._enable()
            return
        if line == "disable" and p.priv_prompt is not None:
            self.privileged = False
            return
        if line not in p.commands or (line in p.privileged_only and not self.privileged):
            self.write(p.error.format(caret=" " * (len(self.prompt) + 2)) + "\n")
            return
        if p.garbage:
            await self.page(GARBAGE)
            return
        if line in p.hang_after:
            head = p.commands[line].splitlines()[: p.hang_after[line]]
            self.write("\n".join(head) + "\n")
            for _ in range(100_000):  # stop answering: swallow input until the client leaves
                await self.getch()
            return
        await self.page(p.commands[line])

    async def _enable(self) -> None:
        if self.privileged:
            return
        self.write("Password: ")
        given = await self.readline(echo=False)
        if self.p.enable_password is not None and given == self.p.enable_password:
            self.privileged = True
        else:
            self.write("% Access denied\n\n")

    async def page(self, text: str) -> None:
        lines = text.rstrip("\n").split("\n")
        if not self.paging:
            self.write("\n".join(lines) + "\n")
            return
        more, erase = self.p.more
        i = 0
        step = self.p.page_lines
        for _ in range(len(lines) + 1):
            chunk = lines[i:i + step]
            self.write("\n".join(chunk) + "\n")
            i += len(chunk)
            if i >= len(lines):
                return
            self.write(more)
            key = await self.getch()
            self.write(erase)
            if key in ("q", "Q", "\x03"):
                return
            step = 1 if key in "\r\n" else self.p.page_lines


class _Server(asyncssh.SSHServer):
    def __init__(self, fake: FakeDevices) -> None:
        self.fake = fake

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        self.fake.connections.add(conn)

    def connection_lost(self, exc: Exception | None) -> None:
        self.fake.connections.discard(self.conn)

    def begin_auth(self, username: str) -> bool:
        self.fake.auth_users.append(username)  # for tests: who got as far as authentication
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        self.fake.passwords_seen.append(password)  # for tests: a password that was sent
        p = self.fake.personalities.get(username)
        return p is not None and p.password is not None and password == p.password

    def public_key_auth_supported(self) -> bool:
        return True

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        return username in self.fake.key_users and \
            key.export_public_key() == self.fake.client_key.export_public_key()


@dataclass
class FakeDevices:
    """The running server; `port` is on 127.0.0.1."""

    personalities: dict[str, Personality]
    client_key_path: Path
    client_key: asyncssh.SSHKey
    key_users: frozenset[str] = frozenset({"h3c"})
    port: int = 0
    sessions: int = 0  # logins that reached a shell
    active: dict[str, int] = field(default_factory=dict)  # open shells per login name
    max_active: dict[str, int] = field(default_factory=dict)
    auth_users: list[str] = field(default_factory=list)  # every login that began auth
    passwords_seen: list[str] = field(default_factory=list)  # every password received
    config_views: int = 0  # times any session entered system-view (a monitor never should)
    connections: set[asyncssh.SSHServerConnection] = field(default_factory=set)
    host_key: asyncssh.SSHKey | None = None
    _loop: asyncio.AbstractEventLoop | None = None
    _server: asyncssh.SSHAcceptor | None = None
    _thread: threading.Thread | None = None

    async def _handle(self, process: asyncssh.SSHServerProcess[str]) -> None:
        self.sessions += 1
        user = process.get_extra_info("username")
        self.active[user] = self.active.get(user, 0) + 1
        self.max_active[user] = max(self.max_active.get(user, 0), self.active[user])
        try:
            await _Cli(self.personalities[user], process, self._config_entered).run()
        except (_Closed, asyncssh.BreakReceived, ConnectionError, asyncssh.DisconnectError):
            pass
        finally:
            self.active[user] -= 1
            process.exit(0)

    def _config_entered(self) -> None:
        self.config_views += 1

    def start(self) -> FakeDevices:
        ready = threading.Event()
        errors: list[BaseException] = []

        def main() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self._serve())
            except BaseException as exc:  # surfaced to the test below
                errors.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=main, name="fake-devices", daemon=True)
        self._thread.start()
        if not ready.wait(15):
            raise RuntimeError("fake SSH devices did not start")
        if errors:
            raise errors[0]
        return self

    async def _serve(self) -> None:
        host_key = asyncssh.generate_private_key("ssh-ed25519")
        self.host_key = host_key
        self._server = await asyncssh.create_server(
            lambda: _Server(self), "127.0.0.1", 0, server_host_keys=[host_key],
            process_factory=self._handle, line_editor=False, encoding="utf-8")
        self.port = self._server.sockets[0].getsockname()[1]

    def known_hosts_line(self) -> str:
        assert self.host_key is not None
        key = self.host_key.export_public_key("openssh").decode().split()
        return f"[127.0.0.1]:{self.port} {key[0]} {key[1]}\n"

    def stop(self) -> None:
        loop, server = self._loop, self._server
        if loop is None or server is None:
            return

        def shutdown() -> None:
            server.close()
            for conn in list(self.connections):
                conn.close()
            loop.call_later(0.2, loop.stop)

        loop.call_soon_threadsafe(shutdown)
        if self._thread is not None:
            self._thread.join(5)


def start_fake_devices(tmp: Path,
                       override: Callable[[dict[str, Personality]], None] | None = None
                       ) -> FakeDevices:
    key = asyncssh.generate_private_key("ssh-ed25519")
    key_path = tmp / "id_ed25519"
    key.write_private_key(str(key_path))
    key_path.chmod(0o600)
    ps = personalities()
    if override is not None:
        override(ps)
    return FakeDevices(ps, key_path, key).start()
