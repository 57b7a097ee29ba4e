"""Where a ``${NAME}`` of ``crmqual.yaml`` comes from: the environment, else the OS keyring.

Secrets never live in files. The nightly job's environment is the usual place; on an
admin's workstation the OS keyring (macOS Keychain, Windows Credential Locker, the Secret
Service) keeps them instead, stored once with ``crmqual secret set NAME``. Every value found
is registered with the redactor, so it never appears in a log line or message.
"""

from __future__ import annotations

import os

import keyring
from keyring.backends.fail import Keyring as NoKeyring
from keyring.errors import KeyringError

from crmqual.errors import ConfigError, Problem
from crmqual.http import SECRETS

#: The keyring "service" crmqual's secrets are filed under (the user name is the NAME).
SERVICE = "crmqual"


def has_keyring() -> bool:
    """Whether this machine has a usable OS keyring (a headless server or CI has none)."""
    return not isinstance(keyring.get_keyring(), NoKeyring)


def lookup(name: str) -> str | None:
    """``name`` from the environment, else from the keyring; None when neither has it."""
    value = os.environ.get(name)
    if value is None and has_keyring():
        try:
            value = keyring.get_password(SERVICE, name)
        except KeyringError:
            value = None
    if value is not None:
        SECRETS.register(value)
    return value


def missing(name: str) -> tuple[str, str]:
    """Why ``name`` could not be found, and what to do: (English, Chinese)."""
    if has_keyring():
        return (
            f"environment variable {name} is not set, nor is {name} in the OS keyring: "
            f"export {name}=... in the job's environment, or store it with "
            f"`crmqual secret set {name}`",
            f"环境变量 {name} 未设置，操作系统密钥环中也没有 {name}：请在任务的环境中 "
            f"export {name}=...，或用 `crmqual secret set {name}` 保存",
        )
    return (
        f"environment variable {name} is not set (this machine has no OS keyring): "
        f"export {name}=... in the job's environment",
        f"环境变量 {name} 未设置（本机没有操作系统密钥环）：请在任务的环境中 export {name}=...",
    )


def store(name: str, value: str) -> None:
    """Keep ``value`` in the OS keyring as ``name``; a ConfigError when there is none."""
    _need_keyring(name)
    try:
        keyring.set_password(SERVICE, name, value)
    except KeyringError as exc:
        raise ConfigError(
            [
                Problem(
                    "keyring",
                    name,
                    f"the OS keyring refused it: {exc}",
                    zh=f"操作系统密钥环拒绝了它：{exc}",
                )
            ]
        ) from None
    SECRETS.register(value)


def forget(name: str) -> bool:
    """Remove ``name`` from the OS keyring; False when it was not there."""
    _need_keyring(name)
    try:
        keyring.delete_password(SERVICE, name)
    except keyring.errors.PasswordDeleteError:
        return False
    return True


def _need_keyring(name: str) -> None:
    if not has_keyring():
        raise ConfigError(
            [
                Problem(
                    "keyring",
                    name,
                    "this machine has no OS keyring (a headless server or CI): keep "
                    f"{name} in the environment of the job instead (export {name}=...)",
                    zh="本机没有操作系统密钥环（无界面的服务器或 CI）：请改为把 "
                    f"{name} 放在任务的环境变量中（export {name}=...）",
                )
            ]
        )
