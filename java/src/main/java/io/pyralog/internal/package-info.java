/** Internal: the native bridge. Not part of the API. */
package io.pyralog.internal;
