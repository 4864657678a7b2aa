package io.pyralog;

/**
 * How a producer compresses its batches. The server stores them compressed; consumers
 * decompress transparently.
 */
public enum Compression {
    /** Not compressed. The default. */
    NONE,
    /** Snappy: fast, moderate ratio. */
    SNAPPY,
    /** LZ4: fast, moderate ratio. */
    LZ4,
    /** zstd: the best ratio; its level is {@link ProducerConfig.Builder#compressionLevel(int)}. */
    ZSTD
}
