"""A description of the machine and software a benchmark run measured."""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata

import psutil
import sqlcipher3.dbapi2 as sqlcipher

__all__ = ["describe_machine"]


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def describe_machine() -> list[tuple[str, str]]:
    """(label, value) pairs: CPU, cores, memory, load, OS, Python and library versions."""
    probe = sqlcipher.connect(":memory:")
    try:
        sqlite_version = str(probe.execute("SELECT sqlite_version()").fetchone()[0])
        cipher_version = str(probe.execute("PRAGMA cipher_version").fetchone()[0])
    finally:
        probe.close()
    logical = os.cpu_count() or 0
    physical = psutil.cpu_count(logical=False) or logical
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    memory_gib = psutil.virtual_memory().total / 2**30
    return [
        ("CPU", _cpu_model()),
        ("cores", f"{logical} logical ({physical} physical)"),
        ("memory", f"{memory_gib:.1f} GiB"),
        ("load average (1/5/15 min) at start", load),
        ("OS", f"{platform.system()} {platform.release()} ({platform.machine()})"),
        ("Python", f"{platform.python_implementation()} {sys.version.split()[0]}"),
        ("SQLite (in sqlcipher3)", sqlite_version),
        ("SQLCipher", cipher_version),
        ("sqlcipher3", _version("sqlcipher3")),
        ("SQLAlchemy", _version("sqlalchemy")),
        ("Pillow", _version("pillow")),
        ("argon2-cffi", _version("argon2-cffi")),
    ]
