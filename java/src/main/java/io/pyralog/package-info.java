/**
 * The Java client of Pyralog, a partitioned, replicated, append-only log. A thin layer (JNI)
 * over the Rust core client: start with {@link io.pyralog.PyralogClient#connect}.
 */
package io.pyralog;
