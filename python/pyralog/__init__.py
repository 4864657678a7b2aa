"""Pyralog for Python: a thin layer over the Rust core client.

>>> from pyralog import Client
>>> with Client("127.0.0.1:9092", ca_file="pyralog-data/tls/ca.pem") as client:
...     client.create_log("user_events", partitions=4)
...     md = client.produce("user_events", b"event-1", key=b"user-1")
...     records = client.consume_from_partition("user_events", md.partition, 0, 10)
"""

from . import _pyralog, errors
from ._client import OFFSET_END, AsyncClient, Client
from ._consumer import AsyncConsumer, Consumer
from ._producer import AsyncProducer, Producer
from ._pyralog import (
    Delivery,
    LogConfig,
    LogMetadata,
    LogPartition,
    LogStats,
    PartitionMetadata,
    PartitionStats,
    Record,
    RecordMetadata,
)
from .errors import *
from .errors import PyralogError


def _spelling(version: str) -> str:
    return "".join(c for c in version.lower() if c.isalnum())


def _check_native_version() -> str:
    """The package's version; raises ImportError if its native module is of another one
    (a stale `_pyralog` left from another build), naming both."""
    try:
        from importlib.metadata import PackageNotFoundError, version
    except ImportError:  # pragma: no cover (Python < 3.8 is not supported)
        return _pyralog.__version__
    try:
        installed = version("pyralog")
    except PackageNotFoundError:  # run from a source tree: only the native module knows
        return _pyralog.__version__
    # Cargo spells a pre-release 0.2.0-rc.1, the wheel's metadata 0.2.0rc1.
    if _spelling(installed) != _spelling(_pyralog.__version__):
        raise ImportError(
            f"pyralog: the native module {_pyralog.__file__} is version {_pyralog.__version__}, "
            f"but the installed package is {installed}: reinstall pyralog (pip install "
            f"--force-reinstall pyralog=={installed})"
        )
    return installed


__version__: str = _check_native_version()

__all__ = [
    "OFFSET_END",
    "AsyncClient",
    "AsyncConsumer",
    "AsyncProducer",
    "Client",
    "Consumer",
    "Delivery",
    "LogConfig",
    "LogMetadata",
    "LogPartition",
    "LogStats",
    "PartitionMetadata",
    "PartitionStats",
    "Producer",
    "PyralogError",
    "Record",
    "RecordMetadata",
]
__all__ += errors.__all__
