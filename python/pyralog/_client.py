"""`Client` (blocking; waits release the GIL) and `AsyncClient` (asyncio)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Generator, Sequence

from . import _pyralog
from ._consumer import AsyncConsumer, Consumer
from ._producer import AsyncProducer, Producer
from ._pyralog import LogConfig, LogMetadata, LogStats, Record, RecordMetadata

if TYPE_CHECKING:
    from typing_extensions import Self

#: An offset meaning "the end of the partition at the time of the read".
OFFSET_END = 2**64 - 1

DEFAULT_CONNECT_TIMEOUT_S = 5.0
DEFAULT_REQUEST_TIMEOUT_S = 30.0
DEFAULT_MAX_RECORDS = 1000


def _connect(
    addr: str | Sequence[str],
    ca_file: str | None,
    server_name: str | None,
    connect_timeout: float,
    request_timeout: float,
    cert_file: str | os.PathLike[str] | None,
    key_file: str | os.PathLike[str] | None,
    token: str | None,
) -> _pyralog.Delivery:
    servers = addr if isinstance(addr, str) else ",".join(addr)
    return _pyralog._Client.connect(
        servers,
        _path(ca_file),
        server_name,
        connect_timeout,
        request_timeout,
        _path(cert_file),
        _path(key_file),
        token,
    )


def _path(p: str | os.PathLike[str] | None) -> str | None:
    return None if p is None else os.fspath(p)


class Client:
    """A connection to a Pyralog server at `addr` ("host:port"), trusting the CA in
    `ca_file` (the server's `<data-dir>/tls/ca.pem`). Every method blocks with the GIL
    released and can be interrupted with Ctrl-C. Thread-safe; close it (or use `with`).

    On a server with authentication on, the connection proves an identity: a client
    certificate, `cert_file` with its private key `key_file` (PEM; both or neither, else
    `InvalidArgument`; the principal is the certificate's CN), or a bearer `token`
    (`pyralog-server token create NAME`), sent on every new connection.

    Raises `ConnectionFailed` or `TlsError` within `connect_timeout` seconds. Refused
    credentials raise `AuthenticationFailed` and a missing ACL `NotAuthorized`, from the
    first request they apply to.
    """

    def __init__(
        self,
        addr: str | Sequence[str],
        ca_file: str | os.PathLike[str] | None = None,
        *,
        server_name: str | None = None,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT_S,
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT_S,
        cert_file: str | os.PathLike[str] | None = None,
        key_file: str | os.PathLike[str] | None = None,
        token: str | None = None,
    ) -> None:
        self._c = _connect(
            addr,
            ca_file,
            server_name,
            connect_timeout,
            request_timeout,
            cert_file,
            key_file,
            token,
        ).result()

    def create_log(
        self,
        name: str,
        partitions: int = 1,
        *,
        replication_factor: int | None = None,
        config: LogConfig | None = None,
    ) -> LogMetadata:
        """Creates a log with `replication_factor` copies of each partition (None: the
        server's `default_replication_factor`). Raises `LogAlreadyExists`, `InvalidLogId`,
        `InvalidConfig`."""
        return self._c.create_log(name, partitions, replication_factor or 0, config).result()

    def list_logs(self) -> list[LogMetadata]:
        """Every log (internal logs hidden)."""
        return self._c.list_logs().result()

    def log_exists(self, name: str) -> bool:
        """True if the log exists."""
        return self._c.log_exists(name).result()

    def get_log_metadata(self, name: str) -> LogMetadata:
        """The log's partitions, settings and state. Raises `LogNotFound`."""
        return self._c.get_log_metadata(name).result()

    def get_log_stats(self, name: str) -> LogStats:
        """Record count, size and write rate. Raises `LogNotFound`."""
        return self._c.get_log_stats(name).result()

    def update_log_config(self, name: str, config: LogConfig) -> LogMetadata:
        """Replaces the log's settings. Raises `LogNotFound`, `InvalidConfig`."""
        return self._c.update_log_config(name, config).result()

    def pause_log(self, name: str) -> LogMetadata:
        """Rejects writes with `LogPaused` until resumed; reads go on."""
        return self._c.pause_log(name).result()

    def resume_log(self, name: str) -> LogMetadata:
        """Accepts writes again."""
        return self._c.resume_log(name).result()

    def delete_log(self, name: str) -> None:
        """Deletes the log and its data. Raises `LogNotFound`."""
        self._c.delete_log(name).result()

    def add_partitions(self, name: str, partitions: int) -> LogMetadata:
        """Grows the log to `partitions` partitions. Raises `InvalidPartitions`."""
        return self._c.add_partitions(name, partitions).result()

    def produce(
        self,
        log: str,
        value: bytes | str,
        key: bytes | str | None = None,
        headers: Sequence[tuple[str, bytes | str]] | None = None,
        partition: int | None = None,
        timestamp: int | None = None,
    ) -> RecordMetadata:
        """Writes one record and waits for its acknowledgement (use `producer()` for
        throughput). Raises `LogNotFound`, `LogPaused`, `RecordTooLarge`."""
        return self._c.produce(log, value, key, headers, partition, timestamp).result()

    def consume(
        self, log: str, offset: int = 0, max_records: int = DEFAULT_MAX_RECORDS
    ) -> list[Record]:
        """Up to `max_records` records of every partition from `offset` (no waiting)."""
        return self._c.consume(log, offset, max_records).result()

    def consume_from_partition(
        self, log: str, partition: int, offset: int = 0, max_records: int = DEFAULT_MAX_RECORDS
    ) -> list[Record]:
        """Up to `max_records` records of one partition from `offset` (`OFFSET_END`: only
        what is newer). Raises `OffsetOutOfRange` past the end. The records before a stored
        batch that cannot be decoded are returned; a read starting at it raises `CorruptData`
        naming it (read on from its `last_offset + 1` to skip it)."""
        return self._c.consume_from_partition(log, partition, offset, max_records).result()

    def producer(self, **settings: Any) -> Producer:
        """A batching producer. Settings (durations in seconds): `batch_size`, `linger`,
        `buffer_memory`, `max_block`, `delivery_timeout`, `retry_backoff`, `idempotence`,
        `max_in_flight`, `acks` ("all": every in-sync replica, the default; "leader";
        "none"), `compression` ("none", the default; "snappy"; "lz4"; "zstd"),
        `compression_level` (zstd only: 1 to 22, default 3), `resume` (an earlier
        producer's `identity()`). Raises `InvalidArgument` for an unknown codec or level."""
        return Producer(self._c.producer(**settings))

    def consumer(self, group_id: str | None = None, **settings: Any) -> Consumer:
        """A consumer, in group `group_id` once it subscribes. Settings (durations in
        seconds): `auto_offset_reset` ("earliest", "latest", "error"), `max_poll_records`,
        `fetch_max_bytes`, `max_partition_fetch_bytes`, `fetch_max_wait`,
        `group_instance_id`, `session_timeout`, `heartbeat_interval`, `rebalance_timeout`,
        `max_poll_interval`, `assignors`, `enable_auto_commit`, `auto_commit_interval`."""
        return Consumer(self._c.consumer(group_id=group_id, **settings))

    def close(self) -> None:
        """Closes the connection. Idempotent; later calls raise `Closed`."""
        self._c.close().result()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncClient:
    """The asyncio twin of `Client`: `client = await AsyncClient.connect(addr, ca_file=...)`
    or `async with AsyncClient.connect(...) as client:`. No method blocks the event loop."""

    def __init__(self, native: _pyralog._Client) -> None:
        self._c = native

    @staticmethod
    def connect(
        addr: str | Sequence[str],
        ca_file: str | os.PathLike[str] | None = None,
        *,
        server_name: str | None = None,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT_S,
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT_S,
        cert_file: str | os.PathLike[str] | None = None,
        key_file: str | os.PathLike[str] | None = None,
        token: str | None = None,
    ) -> _Connecting:
        """Connects; await it, or use it with `async with`. Options as in `Client`
        (`cert_file` + `key_file`, or `token`, on a server with authentication on)."""
        return _Connecting(
            _connect(
                addr,
                ca_file,
                server_name,
                connect_timeout,
                request_timeout,
                cert_file,
                key_file,
                token,
            )
        )

    async def create_log(
        self,
        name: str,
        partitions: int = 1,
        *,
        replication_factor: int | None = None,
        config: LogConfig | None = None,
    ) -> LogMetadata:
        """As `Client.create_log`."""
        return await self._c.create_log(name, partitions, replication_factor or 0, config)

    async def list_logs(self) -> list[LogMetadata]:
        """As `Client.list_logs`."""
        return await self._c.list_logs()

    async def log_exists(self, name: str) -> bool:
        """As `Client.log_exists`."""
        return await self._c.log_exists(name)

    async def get_log_metadata(self, name: str) -> LogMetadata:
        """As `Client.get_log_metadata`."""
        return await self._c.get_log_metadata(name)

    async def get_log_stats(self, name: str) -> LogStats:
        """As `Client.get_log_stats`."""
        return await self._c.get_log_stats(name)

    async def update_log_config(self, name: str, config: LogConfig) -> LogMetadata:
        """As `Client.update_log_config`."""
        return await self._c.update_log_config(name, config)

    async def pause_log(self, name: str) -> LogMetadata:
        """As `Client.pause_log`."""
        return await self._c.pause_log(name)

    async def resume_log(self, name: str) -> LogMetadata:
        """As `Client.resume_log`."""
        return await self._c.resume_log(name)

    async def delete_log(self, name: str) -> None:
        """As `Client.delete_log`."""
        await self._c.delete_log(name)

    async def add_partitions(self, name: str, partitions: int) -> LogMetadata:
        """As `Client.add_partitions`."""
        return await self._c.add_partitions(name, partitions)

    async def produce(
        self,
        log: str,
        value: bytes | str,
        key: bytes | str | None = None,
        headers: Sequence[tuple[str, bytes | str]] | None = None,
        partition: int | None = None,
        timestamp: int | None = None,
    ) -> RecordMetadata:
        """As `Client.produce`."""
        return await self._c.produce(log, value, key, headers, partition, timestamp)

    async def consume(
        self, log: str, offset: int = 0, max_records: int = DEFAULT_MAX_RECORDS
    ) -> list[Record]:
        """As `Client.consume`."""
        return await self._c.consume(log, offset, max_records)

    async def consume_from_partition(
        self, log: str, partition: int, offset: int = 0, max_records: int = DEFAULT_MAX_RECORDS
    ) -> list[Record]:
        """As `Client.consume_from_partition`."""
        return await self._c.consume_from_partition(log, partition, offset, max_records)

    def producer(self, **settings: Any) -> AsyncProducer:
        """As `Client.producer`, with coroutine methods."""
        return AsyncProducer(self._c.producer(**settings))

    def consumer(self, group_id: str | None = None, **settings: Any) -> AsyncConsumer:
        """As `Client.consumer`, with coroutine methods and `async for`."""
        return AsyncConsumer(self._c.consumer(group_id=group_id, **settings))

    async def close(self) -> None:
        """As `Client.close`."""
        await self._c.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class _Connecting:
    """A connection being made: await it for the `AsyncClient`, or `async with` it."""

    def __init__(self, delivery: _pyralog.Delivery) -> None:
        self._delivery = delivery
        self._client: AsyncClient | None = None

    def __await__(self) -> Generator[Any, None, AsyncClient]:
        native = yield from self._delivery.__await__()
        return AsyncClient(native)

    async def __aenter__(self) -> Self:
        self._client = await self
        return self._client

    async def __aexit__(self, *exc: object) -> None:
        if self._client is not None:
            await self._client.close()
