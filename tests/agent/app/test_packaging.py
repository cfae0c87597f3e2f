"""The package as an admin installs it: `python -m build` makes the sdist and (from it) the wheel;
the wheel goes into a fresh venv outside the checkout with `pip install campusmon[sim]`; from
there `--version`, `init` + `check-config` on the config it generates, `install-service`
(verified by systemd-analyze) and `demo` run with nothing of the checkout on the path."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.agent.app.simcampus import Served, init_argv, served_campus
from tests.agent.app.test_service import _verify
from tests.servers import REPO, unavailable

pytestmark = pytest.mark.timeout(1800)  # build + install from the index: minutes on a busy box

PACKAGES = ("agent", "collectors", "probes", "exporters", "config", "inventory", "dashboards")


@dataclass
class Installed:
    root: Path      # world-readable: snmpsim, started as root, reads it as nobody
    dist: Path
    wheel: Path
    sdist: Path
    bin: Path

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items()
               if k not in ("PYTHONPATH", "VIRTUAL_ENV", "CAMPUSMON_SNMPSIM")}
        env["PATH"] = f"{self.bin}:{env.get('PATH', '/usr/bin:/bin')}"
        return subprocess.run([str(self.bin / "campusmon"), *args], capture_output=True,
                              text=True, cwd=self.root, env=env, timeout=timeout)


def _base_python() -> str:
    # Debian's Python when it is new enough: as root snmpsim drops to nobody, who cannot run a
    # Python installed under /root (pyenv); the venv must be usable by nobody
    deb = Path("/usr/bin/python3")
    if deb.exists():
        r = subprocess.run([str(deb), "-c", "import sys, venv; print(sys.version_info >= (3, 11))"],
                           capture_output=True, text=True)
        if r.stdout.strip() == "True":
            return str(deb)
    return sys.executable


@pytest.fixture(scope="module")
def installed() -> Iterator[Installed]:
    try:
        import build  # noqa: F401
    except ImportError:
        unavailable("the 'build' package is missing (pip install -e '.[dev]')")
    if not (REPO / ".git").exists():
        unavailable("not a git checkout: the version comes from git tags")
    root = Path(tempfile.mkdtemp(prefix="campusmon-wheel-"))
    root.chmod(0o755)
    dist = root / "dist"
    try:
        # sdist first, then the wheel built from the unpacked sdist: both are exercised
        r = subprocess.run([sys.executable, "-m", "build", "--outdir", str(dist), str(REPO)],
                           capture_output=True, text=True, timeout=900)
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
        wheel = next(dist.glob("campusmon-*.whl"))
        sdist = next(dist.glob("campusmon-*.tar.gz"))
        venv = root / "venv"
        subprocess.run([_base_python(), "-m", "venv", str(venv)], check=True, timeout=300)
        r = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", f"{wheel}[sim]"],
                           capture_output=True, text=True, timeout=1200, cwd=root)
        if r.returncode != 0 and "No matching distribution" in r.stderr:
            unavailable(f"the package index is not reachable: {r.stderr[-500:]}")
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
        yield Installed(root, dist, wheel, sdist, venv / "bin")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _tracked_data_files() -> list[str]:
    r = subprocess.run(["git", "ls-files", *PACKAGES], capture_output=True, text=True,
                       cwd=REPO, check=True)
    return [f for f in r.stdout.split() if not f.endswith(".py")]


def test_wheel_and_sdist_carry_every_data_file(installed: Installed) -> None:
    data = _tracked_data_files()
    assert any(f.startswith("dashboards/json/") for f in data)
    assert "agent/app/service/campusmon.service" in data
    in_wheel = set(zipfile.ZipFile(installed.wheel).namelist())
    assert not [f for f in data if f not in in_wheel]
    with tarfile.open(installed.sdist) as t:
        top = t.getnames()[0].split("/")[0]
        in_sdist = {n.split("/", 1)[1] for n in t.getnames() if "/" in n}
    assert top.startswith("campusmon-")
    assert not [f for f in data if f not in in_sdist]
    assert not any(n.startswith("tests/") for n in in_wheel)


def test_version_from_the_install(installed: Installed) -> None:
    r = installed.run("--version")
    assert r.returncode == 0, r.stderr
    version = installed.wheel.name.split("-")[1]
    assert r.stdout.strip() == f"campusmon {version}"
    where = subprocess.run([str(installed.bin / "python"), "-c",
                            "import agent, collectors; print(agent.__file__, collectors.__file__)"],
                           capture_output=True, text=True, cwd=installed.root)
    assert str(REPO) not in where.stdout and "site-packages" in where.stdout, where


@pytest.fixture(scope="module")
def sim() -> Iterator[Served]:
    yield from served_campus("campusmon-wheel-sim-")


def test_init_check_config_and_service_from_the_install(installed: Installed,
                                                        sim: Served) -> None:
    etc = installed.root / "etc"
    r = installed.run(*init_argv(sim, installed.root / "given", etc))
    assert r.returncode == 0, r.stdout + r.stderr
    r = installed.run("check-config", str(etc / "campusmon.yaml"))
    assert r.returncode == 0 and "4 devices" in r.stdout, r.stdout + r.stderr
    unit = installed.root / "unit" / "campusmon.service"
    r = installed.run("install-service", "--config", str(etc / "campusmon.yaml"), "--output",
                      str(unit))
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"ExecStart={installed.bin / 'campusmon'} " in unit.read_text()
    _verify(unit)


@pytest.mark.timeout(900)
def test_demo_from_the_install(installed: Installed) -> None:
    work = installed.root / "demo"
    r = installed.run("demo", "--workdir", str(work), "--intervals", "2", "--interval-secs",
                      "12", "--switches", "2", "--aps", "2", timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "snmp_interface" in r.stdout and "host_cpu" in r.stdout, r.stdout[-3000:]
    assert (work / "report" / "report.html").exists()
