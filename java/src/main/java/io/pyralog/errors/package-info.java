/** One exception class per stable error code, each a {@link io.pyralog.PyralogException}. */
package io.pyralog.errors;
