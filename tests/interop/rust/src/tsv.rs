//! The text format of `tests/interop/README.md`: hex fields, `-` for absent.

use pyralog::{ConsumerRecord, Record};

type ParseResult<T> = Result<T, String>;

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> ParseResult<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return Err(format!("odd-length hex {text:?}"));
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).map_err(|e| format!("bad hex {text:?}: {e}")))
        .collect()
}

fn headers_field(headers: &[(String, bytes::Bytes)]) -> String {
    if headers.is_empty() {
        return "-".to_owned();
    }
    headers.iter().map(|(name, value)| format!("{}={}", hex(name.as_bytes()), hex(value))).collect::<Vec<_>>().join(",")
}

fn parse_headers(field: &str) -> ParseResult<Vec<(String, bytes::Bytes)>> {
    if field == "-" {
        return Ok(Vec::new());
    }
    field
        .split(',')
        .map(|pair| {
            let (name, value) = pair.split_once('=').ok_or_else(|| format!("header without '=': {pair:?}"))?;
            let name = String::from_utf8(unhex(name)?).map_err(|e| format!("header name not UTF-8: {e}"))?;
            Ok((name, unhex(value)?.into()))
        })
        .collect()
}

/// The records of an `IN_TSV` file.
pub fn read_records(text: &str) -> ParseResult<Vec<Record>> {
    text.lines().enumerate().map(|(n, line)| parse_record(line).map_err(|e| format!("line {}: {e}", n + 1))).collect()
}

fn parse_record(line: &str) -> ParseResult<Record> {
    let [partition, key, value, headers] = line.split('\t').collect::<Vec<_>>()[..] else {
        return Err(format!("want 4 tab-separated fields: {line:?}"));
    };
    let mut record = Record::new(unhex(value)?);
    if key != "-" {
        record = record.key(unhex(key)?);
    }
    if partition != "-" {
        record = record.partition(partition.parse().map_err(|e| format!("bad partition {partition:?}: {e}"))?);
    }
    record.headers = parse_headers(headers)?;
    Ok(record)
}

/// One `dump` line.
pub fn dump_line(r: &ConsumerRecord) -> String {
    let key = r.key.as_deref().map_or_else(|| "-".to_owned(), hex);
    format!(
        "{}\t{}\t{}\t{}\t{}\t{}\t{}",
        r.partition,
        r.offset,
        r.epoch,
        r.timestamp,
        key,
        hex(&r.value),
        headers_field(&r.headers)
    )
}
