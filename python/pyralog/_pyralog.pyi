"""Type stubs of the native module (pyralog._pyralog)."""

from typing import Sequence

from typing_extensions import Self, TypeAlias

BytesLike: TypeAlias = bytes | str

class RecordMetadata:
    """Where a produced record was written."""

    log: str
    partition: int
    offset: int
    epoch: int
    timestamp: int

class Record:
    """A record read back."""

    log: str
    partition: int
    offset: int
    epoch: int
    timestamp: int
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]

class PartitionMetadata:
    """One partition's leader epoch and bounds."""

    partition: int
    leader_epoch: int
    log_start_offset: int
    high_watermark: int

class LogMetadata:
    """A log's metadata; `state` is "Active", "Paused" or "Deleting"."""

    name: str
    partition_count: int
    replication_factor: int
    created_at_ms: int
    state: str
    partitions: list[PartitionMetadata]

class Client:
    """A connection to a Pyralog server; waits release the GIL."""

    def __init__(
        self,
        addr: str,
        ca_file: str | None = None,
        connect_timeout: float = 5.0,
        request_timeout: float = 30.0,
    ) -> None: ...
    def create_log(self, name: str, partitions: int = 1) -> LogMetadata: ...
    def list_logs(self) -> list[LogMetadata]: ...
    def log_exists(self, name: str) -> bool: ...
    def get_log_metadata(self, name: str) -> LogMetadata: ...
    def delete_log(self, name: str) -> None: ...
    def produce(
        self,
        log: str,
        value: BytesLike,
        key: BytesLike | None = None,
        headers: Sequence[tuple[str, BytesLike]] | None = None,
        partition: int | None = None,
    ) -> RecordMetadata: ...
    def consume_from_partition(
        self, log: str, partition: int, offset: int = 0, max_records: int = 1000
    ) -> list[Record]: ...
    def consume(self, log: str, offset: int = 0, max_records: int = 1000) -> list[Record]: ...
    def close(self) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(self, *exc: object) -> bool: ...

def error_codes() -> list[tuple[int, str]]: ...
def _register_errors(classes: dict[int, type[BaseException]]) -> None: ...
