"""Every secret pattern, with a sample line in the platform's own syntax: the secret is gone,
the rest of the line stays, the same secret masks the same way and a changed one differently."""

from __future__ import annotations

import pytest

from collectors.ssh.backup.secrets import ALL_RULES, PLATFORM_RULES, Masker
from collectors.ssh.platforms import Platform

HW, CMW, IOS, RJ, ZTE, ARUBA = (Platform.HUAWEI, Platform.HP_COMWARE, Platform.CISCO_IOS,
                                Platform.RUIJIE_OS, Platform.ZTE_ZXROS, Platform.ARUBA_OS)

# rule → (platform, sample line, the secret(s) in it)
SAMPLES: dict[str, tuple[Platform, str, tuple[str, ...]]] = {
    "huawei.local_user_password": (
        HW, " local-user admin password irreversible-cipher $1a$Yq1$x\"b7&", ("$1a$Yq1$x\"b7&",)),
    "huawei.snmp_community": (HW, "snmp-agent community write Campus-RW", ("Campus-RW",)),
    "huawei.snmp_usm_auth": (
        HW, "snmp-agent usm-user v3 nms authentication-mode sha cipher %^%#AuthK3y%^%#",
        ("%^%#AuthK3y%^%#",)),
    "huawei.snmp_usm_priv": (
        HW, "snmp-agent usm-user v3 nms privacy-mode aes128 cipher %^%#Pr1vK3y%^%#",
        ("%^%#Pr1vK3y%^%#",)),
    "huawei.aaa_shared_key": (
        HW, " radius-server shared-key cipher %^%#R4dius%^%#", ("%^%#R4dius%^%#",)),
    "huawei.line_password": (
        HW, " set authentication password cipher $1c$Lin3P4ss$", ("$1c$Lin3P4ss$",)),
    "huawei.super_password": (
        HW, "super password level 15 cipher %@%@Sup3r%@%@", ("%@%@Sup3r%@%@",)),
    "huawei.psk": (
        HW, " security wpa2 psk pass-phrase %^%#W1f1Psk%^%# aes", ("%^%#W1f1Psk%^%#",)),
    "huawei.routing_auth": (
        HW, " ospf authentication-mode md5 1 cipher %^%#0spfK%^%#", ("%^%#0spfK%^%#",)),
    "huawei.cipher": (HW, " ntp-service authentication-keyid 1 authentication-mode md5 "
                          "cipher %$%$NtpK3y%$%$", ("%$%$NtpK3y%$%$",)),
    "comware.local_user_password": (
        CMW, " password hash $h$6$Abc$Def==", ("$h$6$Abc$Def==",)),
    "comware.line_password": (
        CMW, " set authentication password simple LinePass1", ("LinePass1",)),
    "comware.super_password": (
        CMW, " super password role network-admin hash $h$6$Sup$Er==", ("$h$6$Sup$Er==",)),
    "comware.snmp_community": (
        CMW, " snmp-agent community read simple public", ("public",)),
    "comware.snmp_usm_keys": (
        CMW, " snmp-agent usm-user v3 nms grp simple authentication-mode sha AuthPass1 "
             "privacy-mode aes128 PrivPass1", ("AuthPass1", "PrivPass1")),
    "comware.aaa_key": (
        CMW, " key authentication cipher $c$3$RadKey==", ("$c$3$RadKey==",)),
    "comware.psk": (
        CMW, " preshared-key pass-phrase cipher $c$3$W1f1==", ("$c$3$W1f1==",)),
    "comware.cipher": (
        CMW, " pre-shared-key-ish cipher $c$3$Other==", ("$c$3$Other==",)),
    "ios.enable_secret": (IOS, "enable secret 9 $9$EnableSecret", ("$9$EnableSecret",)),
    "ios.user_secret": (
        IOS, "username ops privilege 15 secret 9 $9$UserSecret", ("$9$UserSecret",)),
    "ios.line_password": (IOS, " password 7 0822455D0A16", ("0822455D0A16",)),
    "ios.snmp_community": (IOS, "snmp-server community CampusRO RO 5", ("CampusRO",)),
    "ios.snmp_host_community": (
        IOS, "snmp-server host 10.0.0.9 version 2c TrapComm", ("TrapComm",)),
    "ios.snmp_user_keys": (
        IOS, "snmp-server user nms grp v3 auth sha AuthKey1 priv aes 128 PrivKey1",
        ("AuthKey1", "PrivKey1")),
    "ios.aaa_key": (IOS, "tacacs-server host 10.0.0.5 key 7 TacKey1", ("TacKey1",)),
    "ios.server_key": (IOS, " client 10.10.10.10 server-key CoaKey1", ("CoaKey1",)),
    "ios.key_string": (IOS, "  key-string 7 KeyStr1", ("KeyStr1",)),
    "ios.isakmp_key": (
        IOS, "crypto isakmp key 0 IkeKey1 address 1.2.3.4", ("IkeKey1",)),
    "ios.psk": (IOS, " wpa-psk ascii 0 WifiPsk1", ("WifiPsk1",)),
    "ios.routing_auth": (IOS, " neighbor 10.0.0.2 password 7 BgpKey1", ("BgpKey1",)),
    "ruijie.webmaster": (
        RJ, "webmaster level 0 username admin password 0 WebPass1", ("WebPass1",)),
    "ruijie.wlan_key": (RJ, " security wpa akm psk set-key ascii RjPsk123", ("RjPsk123",)),
    "zte.password": (
        ZTE, "    password encrypted *21*ZtePassCipher", ("*21*ZtePassCipher",)),
    "zte.enable_secret": (ZTE, "enable secret level 15 5 ZteEnable1", ("ZteEnable1",)),
    "zte.snmp_community": (
        ZTE, "snmp-server community encrypted *31*ZteComm view AllView rw", ("*31*ZteComm",)),
    "zte.snmp_user_keys": (
        ZTE, "snmp-server user nms group g v3 authentication sha ZteAuth1 privacy des ZtePriv1",
        ("ZteAuth1", "ZtePriv1")),
    "zte.aaa_key": (ZTE, "radius-server host 10.0.0.7 key ZteRad1", ("ZteRad1",)),
    "aruba.mgmt_user": (ARUBA, "mgmt-user admin root 0f1e2d3c4b5a", ("0f1e2d3c4b5a",)),
    "aruba.wpa_passphrase": (ARUBA, 'wpa-passphrase "Wifi Pass 1"', ("Wifi Pass 1",)),
    "aruba.ike_psk": (
        ARUBA, "ike authentication pre-share IkeAruba1", ("IkeAruba1",)),
    "aruba.ap_passwords": (ARUBA, 'ap-console-password "ApCons1"', ("ApCons1",)),
    "aruba.vrrp_auth": (ARUBA, "authentication VrrpAuth1", ("VrrpAuth1",)),
    "aruba.snmp_user": (
        ARUBA, "snmp-server user nms auth-prot sha ArAuth1 priv-prot AES ArPriv1",
        ("ArAuth1", "ArPriv1")),
}

KEY = b"k" * 32


def test_every_rule_has_a_sample() -> None:
    assert set(SAMPLES) == {r.name for r in ALL_RULES}


@pytest.mark.parametrize("rule", sorted(SAMPLES))
def test_rule_masks_its_sample(rule: str) -> None:
    platform, line, secrets = SAMPLES[rule]
    only = [r for r in ALL_RULES if r.name == rule]
    m = only[0].pattern.search(line)
    assert m is not None, f"{rule} does not match its sample"
    assert {v for k, v in m.groupdict().items() if v and k.startswith("s")} == {
        f'"{s}"' if f'"{s}"' in line else s for s in secrets}
    masked, n = Masker(KEY, PLATFORM_RULES[platform]).mask(line)
    assert n == len(secrets)
    for s in secrets:
        assert s not in masked
    # the rest of the line is kept: its first word and the masked token
    assert masked.split()[0] == line.split()[0] and "<secret:" in masked


def test_same_secret_same_token_changed_secret_changes() -> None:
    m = Masker(KEY, PLATFORM_RULES[IOS])
    a, _ = m.mask("enable secret 9 $9$One")
    assert m.mask("enable secret 9 $9$One")[0] == a
    assert m.mask("enable secret 9 $9$Two")[0] != a
    assert Masker(b"x" * 32, PLATFORM_RULES[IOS]).mask("enable secret 9 $9$One")[0] != a
    assert m.mask(a) == (a, 0)  # masking is idempotent


@pytest.mark.parametrize(("platform", "line"), [
    (HW, "ssh server cipher aes256_ctr aes128_ctr"),
    (HW, " authentication-mode password"),
    (IOS, "password policy min-size 8"),
    (ZTE, "  strong-password length 8 character-set-num 3"),
    (CMW, " password-recovery enable"),
    (IOS, "snmp-server host 10.42.0.36 vrf Mgmt-vrf informs version 3 auth oxidized"),
    (ARUBA, "authentication pre-share"),
])
def test_lines_without_secrets_are_untouched(platform: Platform, line: str) -> None:
    assert Masker(KEY, PLATFORM_RULES[platform]).mask(line) == (line, 0)
