//! The client's error: a stable [`ErrorCode`] and a message saying what
//! happened and, where it helps, what to do.

pub use pyralog_protocol::ErrorCode;
use pyralog_protocol::ProtocolError;

/// Every fallible call returns this. Match on [`Error::code`]; bindings map
/// each code to one typed error in their language.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct Error {
    code: ErrorCode,
    message: String,
    retry_after_ms: u32,
    corrupt: Option<Box<CorruptBatch>>,
}

/// Where the batch of a `CorruptData` error lies: the records at
/// `first_offset..=last_offset` of `log`/`partition` cannot be decoded
/// (every record before them was delivered). Skip them by seeking the
/// partition to `last_offset + 1` — after deciding they are lost (a replica
/// on another node may still hold them intact).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorruptBatch {
    pub log: String,
    pub partition: u32,
    pub first_offset: u64,
    /// Past `first_offset` only when the batch's header could be trusted.
    pub last_offset: u64,
}

/// Result alias of the client.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error { code, message: message.into(), retry_after_ms: 0, corrupt: None }
    }

    /// `CorruptData` for the undecodable batch `batch`, naming where it is
    /// and how to skip it.
    pub fn corrupt_data(batch: CorruptBatch, detail: &str) -> Self {
        let message = format!(
            "fetched data of {}/{} is corrupt at offsets {}..={}: {detail}; the records before were delivered; \
             seek the partition to {} to skip these",
            batch.log,
            batch.partition,
            batch.first_offset,
            batch.last_offset,
            batch.last_offset + 1
        );
        Error { corrupt: Some(Box::new(batch)), ..Error::new(ErrorCode::CorruptData, message) }
    }

    /// The undecodable batch of a `CorruptData` error found in fetched data.
    pub fn corrupt_batch(&self) -> Option<&CorruptBatch> {
        self.corrupt.as_deref()
    }

    /// The same error, advising a wait of `retry_after_ms` before a retry.
    pub fn with_retry_after_ms(mut self, retry_after_ms: u32) -> Self {
        self.retry_after_ms = retry_after_ms;
        self
    }

    /// How long the server asked to wait before retrying (`Throttled`);
    /// `None` when it gave no advice.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        self.retry_after_ms().map(|ms| std::time::Duration::from_millis(u64::from(ms)))
    }

    /// [`Error::retry_after`] in milliseconds, as the bindings pass it on.
    pub fn retry_after_ms(&self) -> Option<u32> {
        (self.retry_after_ms > 0).then_some(self.retry_after_ms)
    }

    /// The stable error code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// What happened, naming the limit or setting involved.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Whether sending the same request again may succeed.
    pub fn is_retriable(&self) -> bool {
        self.code.is_retriable()
    }

    /// `Closed`: "{what} is closed".
    pub fn closed(what: &str) -> Self {
        Error::new(ErrorCode::Closed, format!("{what} is closed"))
    }

    pub(crate) fn invalid_argument(msg: impl Into<String>) -> Self {
        Error::new(ErrorCode::InvalidArgument, msg)
    }
}

impl From<ProtocolError> for Error {
    fn from(e: ProtocolError) -> Self {
        Error { code: e.code, message: e.message, retry_after_ms: e.retry_after_ms, corrupt: None }
    }
}
