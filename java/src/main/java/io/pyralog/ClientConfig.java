package io.pyralog;

import java.time.Duration;
import java.util.List;

/**
 * Connection settings: {@code ClientConfig.builder().caFile("pyralog-data/tls/ca.pem").build()}.
 * Unset durations take the defaults (connect 5 s, request 30 s).
 *
 * <p>On a server that authenticates clients, set an identity: a client certificate and its key
 * ({@link Builder#certFile}, {@link Builder#keyFile}; mutual TLS) or a bearer token ({@link
 * Builder#token}). A refused identity makes {@code connect} throw {@link
 * io.pyralog.errors.AuthenticationFailedException}; a request the principal's ACLs do not allow
 * throws {@link io.pyralog.errors.NotAuthorizedException}.
 */
public final class ClientConfig {
    final List<String> bootstrapServers;
    final String caFile;
    final String serverName;
    final String certFile;
    final String keyFile;
    final String token;
    final Duration connectTimeout;
    final Duration requestTimeout;

    private ClientConfig(Builder b) {
        this.bootstrapServers = b.bootstrapServers;
        this.caFile = b.caFile;
        this.serverName = b.serverName;
        this.certFile = b.certFile;
        this.keyFile = b.keyFile;
        this.token = b.token;
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
        private String certFile;
        private String keyFile;
        private String token;
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
         * The client certificate for mutual TLS, on a server that authenticates clients: the
         * connection's principal is its subject CN (or first DNS SAN, as the server is
         * configured). {@code pyralog-server cert issue --name NAME} issues one. Set together with
         * {@link #keyFile}: one without the other makes {@code connect} throw {@link
         * io.pyralog.errors.InvalidArgumentException}.
         *
         * @param path the PEM file of the certificate (chain)
         * @return this builder
         */
        public Builder certFile(String path) {
            this.certFile = path;
            return this;
        }

        /**
         * The private key of {@link #certFile}.
         *
         * @param path the PEM file of the private key
         * @return this builder
         */
        public Builder keyFile(String path) {
            this.keyFile = path;
            return this;
        }

        /**
         * A bearer token ({@code pyralog-server token create NAME} prints one): every
         * connection authenticates with it before its first request, as principal {@code NAME}.
         * Keep it secret; it is never part of a message or {@code toString}.
         *
         * @param token the token
         * @return this builder
         */
        public Builder token(String token) {
            this.token = token;
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
