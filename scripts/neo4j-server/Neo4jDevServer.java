/*
 * Neo4jDevServer: a local Neo4j Community 5.26 LTS server for tests and
 * development, built from the embedded jars on Maven Central (see pom.xml
 * next to this file). Normally driven by scripts/neo4j-dev-server, which
 * fetches the jars, compiles this file once into a small jar in its cache
 * and runs (the password only ever comes from the environment):
 *
 *   NEO4J_PASSWORD=... java -Xmx1g -cp "LAUNCHER.jar:LIB/*" Neo4jDevServer serve \
 *       --home DIR --port 7687 [--pagecache 256m] [--ready-file FILE]
 *
 * It also runs without a compile step via the JDK source launcher:
 *   java -cp "LIB/*" Neo4jDevServer.java serve --home DIR --port 7687
 *
 * What it does:
 *   - starts a DatabaseManagementService on DIR (databases under DIR/data,
 *     logs under DIR/logs), Bolt only, listening on 127.0.0.1:PORT, no HTTP;
 *   - authentication ON; sets the password of the `neo4j` user to the value
 *     of the NEO4J_PASSWORD environment variable through the system database
 *     (ALTER USER ... CHANGE NOT REQUIRED), skipped when Bolt already accepts
 *     that password (a restart). The password is never printed and never
 *     taken from the command line;
 *   - checks its own Bolt port with the Java driver (RETURN 1 with the
 *     password), then writes the ready file (if asked) and prints "READY";
 *   - shuts down cleanly on SIGTERM/SIGINT (shutdown hook).
 *
 * `check --uri URI` connects with NEO4J_PASSWORD and runs RETURN 1; exit 0 if
 * it answers (used when no Python neo4j driver is available).
 */

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.neo4j.configuration.GraphDatabaseInternalSettings;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.BoltConnectorInternalSettings;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.connectors.HttpsConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.driver.AuthTokens;
import org.neo4j.driver.Config;
import org.neo4j.driver.Driver;
import org.neo4j.driver.GraphDatabase;
import org.neo4j.driver.Logging;
import org.neo4j.driver.Session;
import org.neo4j.graphdb.GraphDatabaseService;
import org.neo4j.graphdb.config.Setting;
import org.neo4j.kernel.internal.Version;
import org.neo4j.logging.Level;
import org.neo4j.logging.log4j.Log4jLogProvider;

public final class Neo4jDevServer {

    private static void log(String msg) {
        System.out.println("[neo4j-dev-server] " + msg);
        System.out.flush();
    }

    private static void die(String msg, int code) {
        System.err.println("[neo4j-dev-server] ERROR: " + msg);
        System.err.flush();
        System.exit(code);
    }

    private static Map<String, String> parseArgs(String[] args, int from) {
        Map<String, String> out = new HashMap<>();
        for (int i = from; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--") || i + 1 >= args.length) {
                die("bad argument: " + a, 2);
            }
            out.put(a.substring(2), args[++i]);
        }
        return out;
    }

    /** "256m", "1g", "512k", "1048576" -> bytes. */
    private static long parseBytes(String s) {
        String t = s.trim().toLowerCase(Locale.ROOT);
        long mul = 1;
        char last = t.charAt(t.length() - 1);
        if (last == 'k') mul = 1024L;
        else if (last == 'm') mul = 1024L * 1024;
        else if (last == 'g') mul = 1024L * 1024 * 1024;
        if (mul != 1) t = t.substring(0, t.length() - 1);
        return Long.parseLong(t) * mul;
    }

    private static String password() {
        String pw = System.getenv("NEO4J_PASSWORD");
        if (pw == null || pw.isEmpty()) {
            die("NEO4J_PASSWORD is not set in the environment", 2);
        }
        return pw;
    }

    /** A driver for the local server: no TLS (loopback only), no logging, a 5 s connection timeout. */
    private static Driver driver(String uri, String pw) {
        Config cfg = Config.builder()
                .withoutEncryption()
                .withLogging(Logging.none())
                .withConnectionTimeout(5, TimeUnit.SECONDS)
                .build();
        return GraphDatabase.driver(uri, AuthTokens.basic("neo4j", pw), cfg);
    }

    /** Connects with the driver and runs RETURN 1; throws if it does not answer. */
    private static void boltCheck(String uri, String pw) {
        try (Driver d = driver(uri, pw)) {
            d.verifyConnectivity();
            try (Session s = d.session()) {
                long one = s.run("RETURN 1 AS one").single().get("one").asLong();
                if (one != 1) throw new IllegalStateException("RETURN 1 gave " + one);
            }
        }
    }

    public static void main(String[] args) throws Exception {
        String mode = args.length > 0 ? args[0] : "serve";
        if (mode.equals("check")) {
            Map<String, String> o = parseArgs(args, 1);
            String uri = o.getOrDefault("uri", "bolt://127.0.0.1:7687");
            try {
                boltCheck(uri, password());
                System.exit(0);
            } catch (Exception e) {
                System.err.println("[neo4j-dev-server] check failed: " + e.getClass().getSimpleName()
                        + ": " + e.getMessage());
                System.exit(1);
            }
        }
        if (!mode.equals("serve")) {
            die("usage: Neo4jDevServer serve --home DIR --port N [--pagecache 256m] [--ready-file F]"
                    + " | check --uri URI", 2);
        }
        serve(parseArgs(args, 1));
    }

    private static void serve(Map<String, String> o) throws Exception {
        String pw = password();
        Path home = Path.of(o.getOrDefault("home", "neo4j-dev-home")).toAbsolutePath();
        int port = Integer.parseInt(o.getOrDefault("port", "7687"));
        long pagecache = parseBytes(o.getOrDefault("pagecache", "256m"));
        String readyFile = o.get("ready-file");
        Files.createDirectories(home);

        Map<Setting<?>, Object> cfg = new HashMap<>();
        cfg.put(GraphDatabaseSettings.default_listen_address, new SocketAddress("127.0.0.1"));
        cfg.put(GraphDatabaseSettings.default_advertised_address, new SocketAddress("127.0.0.1"));
        cfg.put(BoltConnector.enabled, true);
        cfg.put(BoltConnector.listen_address, new SocketAddress("127.0.0.1", port));
        cfg.put(BoltConnector.advertised_address, new SocketAddress("127.0.0.1", port));
        cfg.put(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.DISABLED);
        cfg.put(HttpConnector.enabled, false);
        cfg.put(HttpsConnector.enabled, false);
        // Cluster routing connector (would bind :7688); drivers' neo4j:// URIs
        // still work through the Bolt connector's routing table.
        cfg.put(GraphDatabaseSettings.routing_enabled, false);
        cfg.put(GraphDatabaseSettings.auth_enabled, true);
        // Dev/test server on loopback: accept short test passwords, and do not
        // lock the user after a test that deliberately uses a wrong password.
        cfg.put(GraphDatabaseSettings.auth_minimum_password_length, 1);
        cfg.put(GraphDatabaseSettings.auth_max_failed_attempts, 0);
        cfg.put(GraphDatabaseSettings.pagecache_memory, pagecache);
        cfg.put(GraphDatabaseSettings.logs_directory, home.resolve("logs"));
        cfg.put(GraphDatabaseSettings.preallocate_logical_logs, false);
        cfg.put(GraphDatabaseSettings.udc_enabled, false);
        // Defaults wait 5 s + 5 s on shutdown for Bolt connections/netty to
        // drain; a dev/test server should stop quickly.
        cfg.put(BoltConnectorInternalSettings.connection_shutdown_wait_time, Duration.ofSeconds(1));
        cfg.put(GraphDatabaseInternalSettings.netty_server_shutdown_quiet_period, 0);
        cfg.put(GraphDatabaseInternalSettings.netty_server_shutdown_timeout, Duration.ofSeconds(5));

        log("starting Neo4j on bolt://127.0.0.1:" + port + ", home " + home);
        long t0 = System.nanoTime();
        DatabaseManagementService dbms;
        try {
            dbms = new DatabaseManagementServiceBuilder(home)
                    .setConfig(cfg)
                    .setUserLogProvider(new Log4jLogProvider(System.out, Level.INFO))
                    .build();
        } catch (Throwable e) {
            System.err.println("[neo4j-dev-server] ERROR: Neo4j failed to start: " + e);
            Throwable c = e.getCause();
            while (c != null) {
                System.err.println("[neo4j-dev-server]   caused by: " + c);
                c = c.getCause();
            }
            System.err.flush();
            System.exit(3);
            return;
        }

        final CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            log("shutting down");
            try {
                dbms.shutdown();
            } catch (Throwable e) {
                System.err.println("[neo4j-dev-server] shutdown error: " + e);
            }
            log("stopped");
            stopped.countDown();
        }, "neo4j-dev-server-shutdown"));

        log(String.format(Locale.ROOT, "DBMS up after %.1f s", (System.nanoTime() - t0) / 1e9));
        String boltUri = "bolt://127.0.0.1:" + port;
        try {
            // The login check does not run Cypher, so it is cheap: on a restart
            // with the same password, skip ALTER USER (the first Cypher query
            // of a fresh JVM costs several seconds).
            if (!authAccepted(boltUri, pw)) {
                setPassword(dbms, pw);
            }
            try {
                boltCheck(boltUri, pw);
            } catch (org.neo4j.driver.exceptions.SecurityException e) {
                // e.g. the password is still flagged "change required"
                setPassword(dbms, pw);
                boltCheck(boltUri, pw);
            }
        } catch (Throwable e) {
            System.err.println("[neo4j-dev-server] ERROR: server started but is not usable: " + e);
            System.err.flush();
            System.exit(4); // runs the shutdown hook
            return;
        }
        String version = Version.getNeo4jVersion();

        if (readyFile != null) {
            Path rf = Path.of(readyFile);
            Path tmp = rf.resolveSibling(rf.getFileName() + ".tmp");
            Files.writeString(tmp, ProcessHandle.current().pid() + " " + port + " " + version + "\n",
                    StandardCharsets.UTF_8);
            Files.move(tmp, rf, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
        log(String.format(Locale.ROOT, "READY Neo4j %s on bolt://127.0.0.1:%d (pid %d, %.1f s)", version, port,
                ProcessHandle.current().pid(), (System.nanoTime() - t0) / 1e9));

        // Serve until SIGTERM/SIGINT; the shutdown hook stops the DBMS.
        stopped.await();
    }

    /** Does Bolt accept the login (HELLO/LOGON only, no query)? */
    private static boolean authAccepted(String uri, String pw) {
        try (Driver d = driver(uri, pw)) {
            d.verifyConnectivity();
            return true;
        } catch (org.neo4j.driver.exceptions.AuthenticationException e) {
            return false;
        }
    }

    private static void setPassword(DatabaseManagementService dbms, String pw) {
        GraphDatabaseService system = dbms.database("system");
        try {
            system.executeTransactionally(
                    "ALTER USER neo4j SET PASSWORD $pw CHANGE NOT REQUIRED", Map.of("pw", pw));
        } catch (RuntimeException e) {
            String msg = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
            if (!msg.contains("cannot be the same")) {
                throw e; // the exception text does not contain the password
            }
            // Already that password (normal on a restart): just make sure no
            // password change is demanded at login.
            system.executeTransactionally("ALTER USER neo4j SET PASSWORD CHANGE NOT REQUIRED");
        }
        log("password of user neo4j set from NEO4J_PASSWORD");
    }
}
