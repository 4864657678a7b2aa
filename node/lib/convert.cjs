'use strict';
// Turns the native side's bulk transfers (one Buffer and one Float64Array per
// batch; see bindings/node/src/convert.rs) into plain objects. Building object
// literals here is far cheaper than making them through Node-API one by one.

/** Fields per record before its headers (bindings/node/src/convert.rs RECORD_FIELDS). */
const RECORD_FIELDS = 8;
const ACK_FIELDS = 4;

/**
 * @param {{logs: string[], fields: Float64Array, data: Buffer}} columns
 * @returns {import('../index').ConsumerRecord[]}
 */
function toRecords({ logs, fields, data }) {
  const out = [];
  let f = 0;
  let d = 0;
  const end = fields.length;
  while (f < end) {
    const keyLen = fields[f + 5];
    const valueLen = fields[f + 6];
    const headerCount = fields[f + 7];
    let key = null;
    if (keyLen >= 0) {
      key = data.subarray(d, d + keyLen);
      d += keyLen;
    }
    const value = data.subarray(d, d + valueLen);
    d += valueLen;
    const headers = [];
    let h = f + RECORD_FIELDS;
    for (let i = 0; i < headerCount; i++, h += 2) {
      const nameLen = fields[h];
      const hvLen = fields[h + 1];
      const name = data.toString('utf8', d, d + nameLen);
      d += nameLen;
      headers.push([name, data.subarray(d, d + hvLen)]);
      d += hvLen;
    }
    out.push({
      log: logs[fields[f]],
      partition: fields[f + 1],
      offset: fields[f + 2],
      epoch: fields[f + 3],
      timestamp: fields[f + 4],
      key,
      value,
      headers,
    });
    f = h;
  }
  return out;
}

/**
 * @param {{log: string, fields: Float64Array}} columns
 * @returns {import('../index').RecordMetadata[]}
 */
function toMetadata({ log, fields }) {
  const out = new Array(fields.length / ACK_FIELDS);
  for (let i = 0, f = 0; f < fields.length; i++, f += ACK_FIELDS) {
    out[i] = { log, partition: fields[f], offset: fields[f + 1], epoch: fields[f + 2], timestamp: fields[f + 3] };
  }
  return out;
}

module.exports = { toRecords, toMetadata };
