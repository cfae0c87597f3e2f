"""The fake devices behave like the real CLIs where the collector depends on it: pager until
paging is turned off, prompts per privilege level, vendor error messages. Checked with a plain
asyncssh client, so these tests say nothing about netmiko and everything about the server."""

from __future__ import annotations

import asyncio

import asyncssh
import pytest

from tests.collectors.ssh.fakedevice import FakeDevices


async def _read_until(proc: asyncssh.SSHClientProcess[str], marker: str, limit: float = 5.0
                      ) -> str:
    out = ""
    async with asyncio.timeout(limit):
        while marker not in out:
            chunk = await proc.stdout.read(4096)
            if not chunk:
                break
            out += chunk
    return out


async def _shell(fake: FakeDevices, user: str, password: str
                 ) -> tuple[asyncssh.SSHClientConnection, asyncssh.SSHClientProcess[str]]:
    conn = await asyncssh.connect("127.0.0.1", fake.port, username=user, password=password,
                                  known_hosts=None, client_keys=None)
    proc = await conn.create_process(term_type="vt100")
    return conn, proc


@pytest.mark.timeout(20)
async def test_huawei_pager_until_screen_length_0(fake_devices: FakeDevices) -> None:
    conn, proc = await _shell(fake_devices, "huawei", "Huawei@123")
    async with conn:
        banner = await _read_until(proc, "Change now? [Y/N]: ")
        assert "VTY users" in banner
        proc.stdin.write("N\n")
        await _read_until(proc, "<HUAWEI>")
        proc.stdin.write("display lldp neighbor\n")
        first = await _read_until(proc, "---- More ----")
        assert "  ---- More ----" in first and "GigabitEthernet0/0/10" not in first
        proc.stdin.write("q")  # quit the pager
        await _read_until(proc, "<HUAWEI>")
        proc.stdin.write("screen-length 0 temporary\n")
        assert "takes effect" in await _read_until(proc, "<HUAWEI>")
        proc.stdin.write("display lldp neighbor\n")
        full = await _read_until(proc, "<HUAWEI>")
        assert "More" not in full and "GigabitEthernet0/0/10 has 0 neighbors" in full
        proc.stdin.write("display nonsense\n")
        assert "Error: Unrecognized command found at '^' position." in await _read_until(
            proc, "<HUAWEI>")


@pytest.mark.timeout(20)
async def test_cisco_privilege_levels_and_more(fake_devices: FakeDevices) -> None:
    conn, proc = await _shell(fake_devices, "cisco", "Cisco@123")
    async with conn:
        await _read_until(proc, "Switch>")
        proc.stdin.write("show lldp neighbors\n")
        assert "% Invalid input detected at '^' marker." in await _read_until(proc, "Switch>")
        proc.stdin.write("enable\n")
        await _read_until(proc, "Password: ")
        proc.stdin.write("cisco-en\n")
        await _read_until(proc, "Switch#")
        proc.stdin.write("show ipv6 interface brief\n")
        assert " --More-- " in await _read_until(proc, " --More-- ")
        proc.stdin.write(" ")  # next page
        await _read_until(proc, " --More-- ")
        proc.stdin.write("q")
        await _read_until(proc, "Switch#")
