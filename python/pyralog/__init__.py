"""Pyralog for Python: a thin layer over the Rust core client.

>>> from pyralog import Client
>>> with Client("127.0.0.1:9092", ca_file="pyralog-data/tls/ca.pem") as client:
...     client.create_log("user_events", partitions=4)
...     md = client.produce("user_events", b"event-1", key=b"user-1")
...     records = client.consume_from_partition("user_events", md.partition, 0, 10)
"""

from . import errors
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
