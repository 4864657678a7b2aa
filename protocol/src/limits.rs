//! Every bound of the protocol, defined once. Servers and clients enforce
//! these; a violation answers a typed error naming the constant.

/// Longest log name, in bytes (the Kafka topic limit).
pub const MAX_LOG_ID_BYTES: usize = 249;
/// Most partitions a log may have.
pub const MAX_PARTITIONS_PER_LOG: u32 = 4096;
/// Most logs one server holds.
pub const MAX_LOGS: usize = 10_000;
/// Largest single record (key + value + headers, encoded), in bytes.
pub const MAX_RECORD_BYTES: usize = 1024 * 1024;
/// Largest record batch, in bytes, header included.
pub const MAX_BATCH_BYTES: usize = 8 * 1024 * 1024;
/// Most records one batch may hold.
pub const MAX_BATCH_RECORDS: u32 = 1 << 20;
/// Most headers one record may carry.
pub const MAX_HEADERS_PER_RECORD: usize = 1024;
/// Longest header key, in bytes.
pub const MAX_HEADER_KEY_BYTES: usize = 1024;
/// Largest request message, in bytes (one batch plus framing).
pub const MAX_REQUEST_BYTES: usize = MAX_BATCH_BYTES + 64 * 1024;
/// Largest response message a client accepts, in bytes.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;
/// Most bytes of records a client decodes from one partition's part of a
/// fetch (compressed batches counted at the size they announce once
/// decompressed): a fetch of small compressed batches that each expand to
/// a whole batch is decoded a bounded piece at a time.
pub const MAX_DECODED_BYTES_PER_PARTITION_FETCH: usize = 2 * MAX_BATCH_BYTES;
/// Most bytes one fetch response carries over all partitions.
pub const MAX_FETCH_BYTES: u32 = 32 * 1024 * 1024;
/// Most partitions named in one fetch request.
pub const MAX_FETCH_PARTITIONS: usize = 4096;
/// Longest long-poll a fetch may ask for, in milliseconds.
pub const MAX_FETCH_WAIT_MS: u32 = 30_000;
/// Longest a produce may wait for durability, in milliseconds.
pub const MAX_PRODUCE_TIMEOUT_MS: u32 = 60_000;
/// Cap'n Proto traversal limit for decoding, in 8-byte words.
pub const DECODE_TRAVERSAL_LIMIT_WORDS: usize = MAX_RESPONSE_BYTES / 8 * 2;
/// Cap'n Proto nesting limit for decoding.
pub const DECODE_NESTING_LIMIT: i32 = 16;
/// Most segments (Cap'n Proto framing) one message may have.
pub const MAX_MESSAGE_SEGMENTS: usize = 512;
/// Longest a message string field (names, error messages) may be, in bytes.
pub const MAX_TEXT_BYTES: usize = 64 * 1024;
/// QUIC per-stream receive window: at least one whole batch plus framing, so a
/// produce request never stalls on stream flow control.
pub const STREAM_RECEIVE_WINDOW_BYTES: u32 = 16 * 1024 * 1024;
/// QUIC per-connection receive window.
pub const CONNECTION_RECEIVE_WINDOW_BYTES: u32 = 64 * 1024 * 1024;
/// QUIC per-connection send window.
pub const SEND_WINDOW_BYTES: u64 = 64 * 1024 * 1024;
/// UDP send and receive buffer each endpoint asks the kernel for: room for
/// a burst of over a thousand full datagrams (`MAX_UDP_PAYLOAD_BYTES`). The
/// kernel's default (208 KiB) dropped datagrams under replication; what
/// overflows is resent after QUIC shrinks its congestion window. Linux grants at most twice
/// `net.core.rmem_max` / `net.core.wmem_max`.
pub const UDP_SOCKET_BUFFER_BYTES: usize = 8 * 1024 * 1024;
/// QUIC idle timeout: a silent peer is dropped after this long.
pub const IDLE_TIMEOUT_MS: u32 = 30_000;
/// QUIC keep-alive interval (below the idle timeout and the silence limit):
/// a live peer acknowledges something at least this often.
pub const KEEP_ALIVE_INTERVAL_MS: u64 = 250;
/// A request whose connection received nothing at all for this long (four
/// keep-alive intervals) fails `ConnectionFailed`: the peer is gone (a
/// killed process answers nothing, and QUIC over UDP hears no reset), so
/// the client reconnects or moves on instead of waiting out the request
/// timeout.
pub const SILENT_PEER_MS: u64 = 4 * KEEP_ALIVE_INTERVAL_MS;
/// Largest UDP payload QUIC may use once path MTU discovery confirms it (on
/// loopback and jumbo-frame networks larger datagrams cut per-packet costs;
/// elsewhere discovery stays at what the path carries). Bounded by segment
/// offload: quinn hands the kernel up to [`MAX_GSO_SEGMENTS`] datagrams in
/// one send, the kernel refuses a batch over 64 KiB, and quinn counts the
/// refused batch as lost; its black-hole detection then falls back to
/// 1200-byte packets for the connection (half the throughput, measured).
pub const MAX_UDP_PAYLOAD_BYTES: u16 = 6_500;
/// Datagrams quinn batches into one segment-offload send (its
/// `MAX_TRANSMIT_SEGMENTS`).
pub const MAX_GSO_SEGMENTS: usize = 10;
/// IPv4 and UDP headers of a datagram.
const UDP_IPV4_HEADER_BYTES: usize = 28;
const _: () = assert!(MAX_GSO_SEGMENTS * MAX_UDP_PAYLOAD_BYTES as usize + UDP_IPV4_HEADER_BYTES <= 65_535);
/// Most batches of one producer a partition remembers for deduplication; a
/// producer keeps at most this many batches per partition in flight.
pub const MAX_IN_FLIGHT_BATCHES_PER_PARTITION: usize = 5;
/// Most producers whose sequence state one partition keeps; the least recently
/// writing one is forgotten first (its next batch gets `UnknownProducer`).
pub const MAX_PRODUCERS_PER_PARTITION: usize = 10_000;
/// Most assignors one member may offer when joining a group.
pub const MAX_GROUP_PROTOCOLS: usize = 16;
/// Most members one consumer group may have.
pub const MAX_GROUP_MEMBERS: usize = 1_000;
/// Most consumer groups one server holds.
pub const MAX_GROUPS: usize = 10_000;
/// Shortest session timeout a member may ask for, in milliseconds.
pub const MIN_SESSION_TIMEOUT_MS: u32 = 1_000;
/// Longest session timeout a member may ask for, in milliseconds.
pub const MAX_SESSION_TIMEOUT_MS: u32 = 300_000;
/// Longest rebalance timeout a member may ask for, in milliseconds.
pub const MAX_REBALANCE_TIMEOUT_MS: u32 = 300_000;
/// Most partitions one offset commit or fetch may name.
pub const MAX_OFFSET_COMMIT_PARTITIONS: usize = 65_536;
/// Longest commit metadata string, in bytes.
pub const MAX_COMMIT_METADATA_BYTES: usize = 4_096;
/// Longest principal name (a certificate's subject CN or SAN, a token's name).
pub const MAX_PRINCIPAL_BYTES: usize = 256;
/// Longest bearer token a client may send.
pub const MAX_TOKEN_BYTES: usize = 512;
/// Most ACLs the cluster metadata holds.
pub const MAX_ACLS: usize = 10_000;
