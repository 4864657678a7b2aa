package io.pyralog;

import java.time.Duration;
import java.util.List;

/**
 * Connection settings: {@code ClientConfig.builder().caFile("pyralog-data/tls/ca.pem").build()}.
 * Unset durations take the defaults (connect 5 s, request 30 s).
 */
public final class ClientConfig {
    final List<String> bootstrapServers;
    final String caFile;
    final String serverName;
    final Duration connectTimeout;
    final Duration requestTimeout;

    private ClientConfig(Builder b) {
        this.bootstrapServers = b.bootstrapServers;
        this.caFile = b.caFile;
        this.serverName = b.serverName;
        this.connectTimeout = b.connectTimeout;
        this.requestTimeout = b.requestTimeout;
    }

    /** @return a builder with every setting at its default */
    public static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link ClientConfig}. */
    public static final class Builder {
        private List<String> bootstrapServers = List.of();
        private String caFile;
        private String serverName;
        private Duration connectTimeout;
        private Duration requestTimeout;

        private Builder() {}

        /**
         * @param servers "host:port" of servers of the cluster, for {@link
         *     PyralogClient#connect(ClientConfig)}: any one that answers is enough
         * @return this builder
         */
        public Builder bootstrapServers(String... servers) {
            this.bootstrapServers = List.of(servers);
            return this;
        }

        /**
         * @param path the PEM CA certificate to trust (the server's {@code <data-dir>/tls/ca.pem})
         * @return this builder
         */
        public Builder caFile(String path) {
            this.caFile = path;
            return this;
        }

        /**
         * @param name the name to verify in the server's certificate (default: the host)
         * @return this builder
         */
        public Builder serverName(String name) {
            this.serverName = name;
            return this;
        }

        /**
         * @param timeout how long connecting may take
         * @return this builder
         */
        public Builder connectTimeout(Duration timeout) {
            this.connectTimeout = timeout;
            return this;
        }

        /**
         * @param timeout how long each request may take
         * @return this builder
         */
        public Builder requestTimeout(Duration timeout) {
            this.requestTimeout = timeout;
            return this;
        }

        /** @return the settings */
        public ClientConfig build() {
            return new ClientConfig(this);
        }
    }
}
