package io.pyralog;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** A test class with its own real server and a client on it. */
abstract class ServerTest {
    static TestServer server;
    static PyralogClient client;

    @BeforeAll
    static void startServer() throws Exception {
        server = new TestServer();
        client = server.client();
    }

    @AfterAll
    static void stopServer() throws Exception {
        client.close();
        server.close();
    }
}
