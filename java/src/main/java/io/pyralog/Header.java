package io.pyralog;

import java.util.Arrays;

/**
 * One record header; names may repeat and their order is kept.
 *
 * @param name the header name
 * @param value the header value (not copied: do not change it)
 */
public record Header(String name, byte[] value) {
    @Override
    public boolean equals(Object o) {
        return o instanceof Header h && h.name.equals(name) && Arrays.equals(h.value, value);
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(value);
    }
}
