"""Type stubs of the native module (pyralog._pyralog). Its underscored classes are the
native halves of the public `Client`, `AsyncClient`, producers and consumers."""

from typing import Any, Generator, Generic, Iterable, Iterator, Mapping, Sequence, TypeVar

from typing_extensions import TypeAlias

BytesLike: TypeAlias = bytes | str
Headers: TypeAlias = Sequence[tuple[str, BytesLike]]
_T = TypeVar("_T")

__version__: str

class Delivery(Generic[_T]):
    """The outcome of an operation: `result(timeout)` from a thread (GIL released),
    `await` from asyncio (never blocks the event loop), `done()` to look."""

    def result(self, timeout: float | None = None) -> _T:
        """Waits (at most `timeout` seconds) and returns the outcome or raises its
        error; `Timeout` if the time ran out (the operation goes on)."""
    def done(self) -> bool:
        """True once the outcome is known."""
    def __await__(self) -> Generator[Any, None, _T]: ...

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

class LogPartition:
    """A log and one of its partitions; hashable, ordered, unpackable as a tuple."""

    log: str
    partition: int
    def __init__(self, log: str, partition: int) -> None: ...
    def __iter__(self) -> Iterator[str | int]: ...
    def __hash__(self) -> int: ...
    def __lt__(self, other: LogPartition) -> bool: ...

class LogConfig:
    """A log's settings; zero means "not set". `flush_policy`: "server_default",
    "always", "interval", "never"; `timestamp_type`: "create_time", "log_append_time";
    `partitioning_mode`: "static", "dynamic"; `cleanup_policy`: "delete", "compact"
    (the newest record of each key is kept; an empty value is a tombstone), "compact,delete";
    `delete_retention_ms`: how long a compacted log keeps tombstones (0: server default)."""

    retention_ms: int
    retention_bytes: int
    min_in_sync_replicas: int
    flush_policy: str
    flush_interval_ms: int
    segment_bytes: int
    segment_ms: int
    timestamp_type: str
    partitioning_mode: str
    cleanup_policy: str
    delete_retention_ms: int
    def __init__(
        self,
        *,
        retention_ms: int = 0,
        retention_bytes: int = 0,
        min_in_sync_replicas: int = 0,
        flush_policy: str = "server_default",
        flush_interval_ms: int = 0,
        segment_bytes: int = 0,
        segment_ms: int = 0,
        timestamp_type: str = "create_time",
        partitioning_mode: str = "static",
        cleanup_policy: str = "delete",
        delete_retention_ms: int = 0,
    ) -> None: ...

class PartitionMetadata:
    """One partition's placement, leader epoch and bounds."""

    partition: int
    leader: int
    """The node leading it (0xFFFFFFFF while none does)."""
    replicas: list[int]
    """The nodes holding a copy."""
    isr: list[int]
    """The replicas in sync with the leader."""
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
    config: LogConfig
    partitions: list[PartitionMetadata]

class PartitionStats:
    """One partition's size and bounds."""

    partition: int
    log_start_offset: int
    high_watermark: int
    size_bytes: int
    segment_count: int

class LogStats:
    """A log's statistics; `write_rate` is records per second over the last minute."""

    name: str
    record_count: int
    size_bytes: int
    write_rate: float
    partitions: list[PartitionStats]

PartitionLike: TypeAlias = LogPartition | tuple[str, int]

class _Client:
    @staticmethod
    def connect(
        addr: str,
        ca_file: str | None = None,
        server_name: str | None = None,
        connect_timeout: float = 5.0,
        request_timeout: float = 30.0,
        cert_file: str | None = None,
        key_file: str | None = None,
        token: str | None = None,
    ) -> Delivery[_Client]:
        """Connects with the core client's settings; `cert_file` + `key_file` (mTLS client
        certificate and key, PEM) and `token` (bearer) are the connection's identity."""
    def create_log(
        self, name: str, partitions: int, replication_factor: int, config: LogConfig | None
    ) -> Delivery[LogMetadata]: ...
    def list_logs(self) -> Delivery[list[LogMetadata]]: ...
    def log_exists(self, name: str) -> Delivery[bool]: ...
    def get_log_metadata(self, name: str) -> Delivery[LogMetadata]: ...
    def get_log_stats(self, name: str) -> Delivery[LogStats]: ...
    def update_log_config(self, name: str, config: LogConfig) -> Delivery[LogMetadata]: ...
    def pause_log(self, name: str) -> Delivery[LogMetadata]: ...
    def resume_log(self, name: str) -> Delivery[LogMetadata]: ...
    def delete_log(self, name: str) -> Delivery[None]: ...
    def add_partitions(self, name: str, partitions: int) -> Delivery[LogMetadata]: ...
    def produce(
        self,
        log: str,
        value: BytesLike,
        key: BytesLike | None,
        headers: Headers | None,
        partition: int | None,
        timestamp: int | None,
    ) -> Delivery[RecordMetadata]: ...
    def consume(self, log: str, offset: int, max_records: int) -> Delivery[list[Record]]: ...
    def consume_from_partition(
        self, log: str, partition: int, offset: int, max_records: int
    ) -> Delivery[list[Record]]: ...
    def producer(self, **settings: Any) -> _Producer: ...
    def consumer(self, **settings: Any) -> _Consumer: ...
    def close(self) -> Delivery[None]: ...
    def is_closed(self) -> bool: ...

class _Producer:
    def send(
        self,
        log: str,
        value: BytesLike,
        key: BytesLike | None,
        headers: Headers | None,
        partition: int | None,
        timestamp: int | None,
    ) -> Delivery[Delivery[RecordMetadata]]: ...
    def send_batch(
        self, log: str, records: Iterable[Any], partition: int | None
    ) -> Delivery[Delivery[list[RecordMetadata]]]: ...
    def flush(self) -> Delivery[None]: ...
    def close(self) -> Delivery[None]: ...
    def identity(self) -> Delivery[tuple[int, int] | None]: ...

class _Consumer:
    def subscribe(self, logs: list[str], on_assign: Any, on_revoke: Any, on_lost: Any) -> None: ...
    def unsubscribe(self) -> Delivery[None]: ...
    def assign(self, partitions: Iterable[PartitionLike]) -> None: ...
    def assign_log(self, log: str) -> Delivery[None]: ...
    def assignment(self) -> list[LogPartition]: ...
    def seek(self, partition: PartitionLike, offset: int) -> None: ...
    def seek_to_beginning(self, partitions: Iterable[PartitionLike] | None = None) -> None: ...
    def seek_to_end(self, partitions: Iterable[PartitionLike] | None = None) -> None: ...
    def seek_to_timestamp(
        self, timestamp_ms: int, partitions: Iterable[PartitionLike] | None = None
    ) -> None: ...
    def pause(self, partitions: Iterable[PartitionLike]) -> None: ...
    def resume(self, partitions: Iterable[PartitionLike]) -> None: ...
    def paused(self) -> list[LogPartition]: ...
    def position(self, partition: PartitionLike) -> Delivery[int]: ...
    def poll(self, timeout: float) -> Delivery[list[Record]]: ...
    def commit(self, offsets: Mapping[PartitionLike, int] | None = None) -> Delivery[None]: ...
    def commit_async(self) -> Delivery[None]: ...
    def committed(
        self, partitions: Iterable[PartitionLike] | None = None
    ) -> Delivery[dict[LogPartition, int]]: ...
    def close(self) -> Delivery[None]: ...

def error_codes() -> list[tuple[int, str]]: ...
def _register_errors(
    classes: dict[int, type[BaseException]], forked: type[BaseException]
) -> None: ...
