"""Run inside `unshare -m` with a small tmpfs as the data dir (see test_disk_full.py): back up
the 10 MB switch (the disk fills), then a small one (space freed again); print what happened
as JSON lines."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from pydantic import SecretStr

from agent.core.errors import CollectError, PartialCollect
from agent.core.plugin import BuildContext, Target
from collectors.ssh.backup.config import ConfigBackupConfig
from collectors.ssh.backup.plugin import ConfigBackup
from config.credentials import SshCredential
from inventory.models import Device, DeviceKind, Inventory


async def main(data: Path, port: int) -> None:
    creds = {
        "huge": SshCredential(name="huge", type="ssh", username="huge",
                              password=SecretStr("Huge@1234")),
        "cisco": SshCredential(name="cisco", type="ssh", username="cisco",
                               password=SecretStr("Cisco@123"),
                               enable_secret=SecretStr("cisco-en")),
    }
    ctx = BuildContext(instance="config_backup/t", inventory=Inventory.empty("hn-demo"),
                       credentials=creds, data_dir=data, config_dir=data)
    col = ConfigBackup(ConfigBackupConfig(session_timeout_secs=120.0), ctx)
    await col.start()
    try:
        for id_, vendor, cred in (("big-core", "Huawei", "huge"), ("cisco-acc", "Cisco", "cisco")):
            dev = Device(id_, DeviceKind.CORE_SWITCH, "hn-demo", "dc", "dc-101",
                         ipv4="127.0.0.1", vendor=vendor, credential=cred)
            t = Target(id=id_, device=dev, ipv4="127.0.0.1", port=port, credential=cred)
            try:
                items = await col.poll(t)
                print(json.dumps({"device": id_, "ok": True, "n": len(items)}), flush=True)
            except (PartialCollect, CollectError) as exc:
                print(json.dumps({"device": id_, "ok": False, "error": exc.error_type.value,
                                  "message": str(exc)}), flush=True)
    finally:
        await col.close()
    left = sorted(p.name for p in (data / "configs.incoming").glob("*"))
    stored = sorted(p.name for p in (data / "configs" / "devices").glob("*"))
    print(json.dumps({"incoming": left, "stored": stored}), flush=True)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2])))
