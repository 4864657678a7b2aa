//! Batch compression: the codecs a batch's records section may be stored in.
//!
//! A compressed batch keeps its 80-byte header as it is (counts, timestamps,
//! producer fields stay readable) and replaces the records section by
//!
//! ```text
//! 0  4   uncompressed_length   u32 LE, bytes of the records section once decompressed
//! 4  ..  payload               the codec's block: LZ4 block, Snappy raw, or one zstd frame
//! ```
//!
//! The codec is in bits 0-2 of the batch attributes (the numbers Kafka uses).
//! Decompression is bounded: a length over [`MAX_UNCOMPRESSED_RECORDS_BYTES`]
//! is refused before anything is allocated, and a payload that yields more or
//! fewer bytes than it announced is refused too.

use std::fmt;
use std::str::FromStr;

use crate::error::{ErrorCode, ProtocolError};
use crate::limits::MAX_BATCH_BYTES;

/// Largest records section a compressed batch may expand to: what an
/// uncompressed batch may hold, so compression never lets a batch carry more
/// than `MAX_BATCH_BYTES` of records.
pub const MAX_UNCOMPRESSED_RECORDS_BYTES: usize = MAX_BATCH_BYTES - crate::batch::HEADER_BYTES;
/// Bytes of the `uncompressed_length` prefix.
pub const LENGTH_PREFIX_BYTES: usize = 4;
/// Mask of the codec bits in the batch attributes.
pub const CODEC_MASK: u16 = 0b111;
/// zstd's default level (the level `zstd` means without one).
pub const DEFAULT_ZSTD_LEVEL: i32 = 3;
/// zstd levels a producer may ask for.
pub const ZSTD_LEVELS: std::ops::RangeInclusive<i32> = 1..=22;

/// How a producer compresses its batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compression {
    #[default]
    None,
    Snappy,
    Lz4,
    /// zstd at a level in [`ZSTD_LEVELS`].
    Zstd {
        level: i32,
    },
}

/// The codec numbers of the attributes' bits 0-2 (1 is gzip in Kafka, not
/// supported here).
mod codec {
    pub const NONE: u16 = 0;
    pub const SNAPPY: u16 = 2;
    pub const LZ4: u16 = 3;
    pub const ZSTD: u16 = 4;
}

impl Compression {
    /// The codec with an optional level (zstd only).
    ///
    /// # Errors
    /// `InvalidArgument` for an unknown name, a level outside [`ZSTD_LEVELS`], or
    /// a level for a codec without levels.
    pub fn with_level(name: &str, level: Option<i32>) -> Result<Self, ProtocolError> {
        let c: Compression = name.parse()?;
        match (c, level) {
            (_, None) => Ok(c),
            (Compression::Zstd { .. }, Some(level)) => Compression::Zstd { level }.validated(),
            (c, Some(_)) => Err(argument(format!("compression {c} has no levels (only zstd has)"))),
        }
    }

    /// The codec bits this compression writes into the batch attributes.
    pub fn attribute_bits(self) -> u16 {
        match self {
            Compression::None => codec::NONE,
            Compression::Snappy => codec::SNAPPY,
            Compression::Lz4 => codec::LZ4,
            Compression::Zstd { .. } => codec::ZSTD,
        }
    }

    /// The compression named by a batch's attributes (a zstd batch reports
    /// the default level: levels are not stored).
    ///
    /// # Errors
    /// `InvalidBatch` for codec bits no codec here reads.
    pub fn from_attributes(attributes: u16) -> Result<Self, ProtocolError> {
        match attributes & CODEC_MASK {
            codec::NONE => Ok(Compression::None),
            codec::SNAPPY => Ok(Compression::Snappy),
            codec::LZ4 => Ok(Compression::Lz4),
            codec::ZSTD => Ok(Compression::Zstd { level: DEFAULT_ZSTD_LEVEL }),
            n => Err(invalid(format!("batch compression codec {n} unsupported (0 none, 2 snappy, 3 lz4, 4 zstd)"))),
        }
    }

    /// This compression if its level is valid.
    ///
    /// # Errors
    /// `InvalidArgument` for a zstd level outside [`ZSTD_LEVELS`].
    pub fn validated(self) -> Result<Self, ProtocolError> {
        match self {
            Compression::Zstd { level } if !ZSTD_LEVELS.contains(&level) => {
                Err(argument(format!("zstd level {level} outside {}..={}", ZSTD_LEVELS.start(), ZSTD_LEVELS.end())))
            }
            c => Ok(c),
        }
    }

    /// Compresses a records section into the compressed layout (length
    /// prefix, then the codec's block). `None` for [`Compression::None`],
    /// for more than [`MAX_UNCOMPRESSED_RECORDS_BYTES`] (the batch then goes
    /// as it is and the server refuses it as too large), or when the codec
    /// fails (an invalid zstd level): the caller stores the records as they are.
    pub fn compress(self, records: &[u8]) -> Option<Vec<u8>> {
        if self == Compression::None || records.len() > MAX_UNCOMPRESSED_RECORDS_BYTES {
            return None;
        }
        let bound = match self {
            Compression::None => return None,
            Compression::Snappy => snap::raw::max_compress_len(records.len()),
            Compression::Lz4 => lz4_flex::block::get_maximum_output_size(records.len()),
            Compression::Zstd { .. } => zstd::zstd_safe::compress_bound(records.len()),
        };
        let mut out = vec![0u8; LENGTH_PREFIX_BYTES + bound];
        out[..LENGTH_PREFIX_BYTES].copy_from_slice(&(records.len() as u32).to_le_bytes());
        let body = &mut out[LENGTH_PREFIX_BYTES..];
        let n = match self {
            Compression::None => return None,
            Compression::Snappy => snap::raw::Encoder::new().compress(records, body).ok()?,
            Compression::Lz4 => lz4_flex::block::compress_into(records, body).ok()?,
            Compression::Zstd { level } => zstd::bulk::compress_to_buffer(records, body, level).ok()?,
        };
        out.truncate(LENGTH_PREFIX_BYTES + n);
        Some(out)
    }

    /// Decompresses a records section stored by [`Compression::compress`].
    ///
    /// # Errors
    /// `InvalidBatch` when the announced length exceeds
    /// [`MAX_UNCOMPRESSED_RECORDS_BYTES`], the payload is not valid for the
    /// codec, or it yields another length than announced. Nothing larger than
    /// the bound is ever allocated.
    pub fn decompress(self, section: &[u8]) -> Result<Vec<u8>, ProtocolError> {
        let len = announced_length(section)?;
        let payload = &section[LENGTH_PREFIX_BYTES..];
        let mut out = vec![0u8; len];
        let got = match self {
            Compression::None => return Err(invalid("decompress called on an uncompressed batch")),
            Compression::Snappy => {
                let n = snap::raw::decompress_len(payload).map_err(|e| bad(self, e))?;
                if n != len {
                    return Err(invalid(format!("snappy payload of {n} bytes, batch announced {len}")));
                }
                snap::raw::Decoder::new().decompress(payload, &mut out).map_err(|e| bad(self, e))?
            }
            Compression::Lz4 => lz4_flex::block::decompress_into(payload, &mut out).map_err(|e| bad(self, e))?,
            Compression::Zstd { .. } => zstd::bulk::Decompressor::new()
                .and_then(|mut d| d.decompress_to_buffer(payload, &mut out))
                .map_err(|e| invalid(format!("zstd payload does not decompress to the announced {len} bytes: {e}")))?,
        };
        if got != len {
            return Err(invalid(format!("{self} payload yields {got} bytes, batch announced {len}")));
        }
        Ok(out)
    }
}

/// Checks a compressed records section's length prefix against the bound.
///
/// # Errors
/// `InvalidBatch` when the prefix is missing or over
/// [`MAX_UNCOMPRESSED_RECORDS_BYTES`].
pub fn announced_length(section: &[u8]) -> Result<usize, ProtocolError> {
    let Some(prefix) = section.get(..LENGTH_PREFIX_BYTES) else {
        return Err(invalid("compressed batch shorter than its length prefix"));
    };
    let len = u32::from_le_bytes(prefix.try_into().expect("4 bytes")) as usize;
    if len > MAX_UNCOMPRESSED_RECORDS_BYTES {
        return Err(invalid(format!(
            "compressed batch announces {len} bytes of records; MAX_UNCOMPRESSED_RECORDS_BYTES is {MAX_UNCOMPRESSED_RECORDS_BYTES}"
        )));
    }
    Ok(len)
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Compression::None => "none",
            Compression::Snappy => "snappy",
            Compression::Lz4 => "lz4",
            Compression::Zstd { .. } => "zstd",
        })
    }
}

impl FromStr for Compression {
    type Err = ProtocolError;

    /// `none`, `snappy`, `lz4` or `zstd` (at [`DEFAULT_ZSTD_LEVEL`]).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "none" => Ok(Compression::None),
            "snappy" => Ok(Compression::Snappy),
            "lz4" => Ok(Compression::Lz4),
            "zstd" => Ok(Compression::Zstd { level: DEFAULT_ZSTD_LEVEL }),
            other => Err(argument(format!("compression {other:?} is not none, snappy, lz4 or zstd"))),
        }
    }
}

fn invalid(msg: impl Into<String>) -> ProtocolError {
    ProtocolError::new(ErrorCode::InvalidBatch, msg)
}

fn argument(msg: impl Into<String>) -> ProtocolError {
    ProtocolError::new(ErrorCode::InvalidArgument, msg)
}

fn bad(c: Compression, e: impl fmt::Display) -> ProtocolError {
    invalid(format!("{c} payload is corrupt: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Compression; 3] = [Compression::Snappy, Compression::Lz4, Compression::Zstd { level: 3 }];

    fn sample() -> Vec<u8> {
        (0..20_000u32).flat_map(|i| format!("{{\"id\":{i},\"kind\":\"click\"}}").into_bytes()).collect()
    }

    #[test]
    fn every_codec_round_trips_and_shrinks_repetitive_records() {
        let records = sample();
        for c in ALL {
            let packed = c.compress(&records).unwrap();
            assert!(packed.len() < records.len() / 3, "{c}: {} of {}", packed.len(), records.len());
            let back = Compression::from_attributes(c.attribute_bits()).unwrap().decompress(&packed).unwrap();
            assert_eq!(back, records, "{c}");
        }
    }

    #[test]
    fn an_announced_length_over_the_bound_is_refused_before_allocating() {
        for c in ALL {
            let mut packed = c.compress(b"hello").unwrap();
            packed[..4].copy_from_slice(&u32::MAX.to_le_bytes());
            let e = c.decompress(&packed).unwrap_err();
            assert!(e.message.contains("MAX_UNCOMPRESSED_RECORDS_BYTES"), "{c}: {e}");
        }
    }

    #[test]
    fn a_bomb_that_expands_past_its_announced_length_is_refused() {
        let zeros = vec![0u8; MAX_UNCOMPRESSED_RECORDS_BYTES];
        for c in ALL {
            let mut packed = c.compress(&zeros).unwrap();
            assert!(packed.len() < zeros.len() / 16, "{c} packs zeros small");
            packed[..4].copy_from_slice(&1024u32.to_le_bytes());
            let e = c.decompress(&packed).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidBatch, "{c}: {e}");
        }
    }

    #[test]
    fn corrupt_payloads_are_errors_not_panics() {
        let records = sample();
        for c in ALL {
            let packed = c.compress(&records).unwrap();
            for cut in [4, 5, packed.len() / 2, packed.len() - 1] {
                assert!(c.decompress(&packed[..cut]).is_err(), "{c} cut at {cut}");
            }
            let mut flipped = packed.clone();
            for i in (LENGTH_PREFIX_BYTES..flipped.len()).step_by(97) {
                flipped[i] ^= 0x5a;
            }
            if let Ok(out) = c.decompress(&flipped) {
                assert_eq!(out.len(), records.len(), "{c}: a decode that succeeds keeps the announced length");
            }
        }
    }

    #[test]
    fn names_and_levels_parse_with_typed_errors() {
        assert_eq!(Compression::with_level("zstd", Some(9)).unwrap(), Compression::Zstd { level: 9 });
        assert_eq!(Compression::with_level("lz4", None).unwrap(), Compression::Lz4);
        assert_eq!(Compression::with_level("zstd", Some(23)).unwrap_err().code, ErrorCode::InvalidArgument);
        assert_eq!(Compression::with_level("lz4", Some(1)).unwrap_err().code, ErrorCode::InvalidArgument);
        assert_eq!("gzip".parse::<Compression>().unwrap_err().code, ErrorCode::InvalidArgument);
        assert_eq!(Compression::from_attributes(1).unwrap_err().code, ErrorCode::InvalidBatch);
    }
}
