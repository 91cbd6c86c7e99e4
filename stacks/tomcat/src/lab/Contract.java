package lab;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The lab's endpoint contract for the servlet: bounds, bodies, the /cpu
 * SHA-256 chain and the error messages, byte for byte as Go's
 * internal/contract (the one copy). Immutable; safe from any thread.
 */
final class Contract {
    static final int MAX_IO_MS = 10_000;
    static final int MAX_CPU_WORK = 1_000_000;
    static final int MAX_FANOUT_CALLS = 100;

    static final String TEXT = "text/plain; charset=utf-8";
    static final String JSON = "application/json";
    static final String ALLOWED_METHODS = "GET, HEAD";

    static final byte[] PLAINTEXT = "Hello, World!".getBytes(StandardCharsets.US_ASCII);
    static final byte[] JSON_BODY = "{\"message\":\"Hello, World!\"}".getBytes(StandardCharsets.US_ASCII);

    static final String MSG_IO = "parameter ms must be an integer in [0, 10000]";
    static final String MSG_WORK = "parameter work must be an integer in [0, 1000000]";
    static final String MSG_CALLS = "parameter calls must be an integer in [1, 100]";
    static final String MSG_MODE = "parameter mode must be seq or par";
    static final String MSG_WAIT_LIST = "parameter ms must be one integer or a comma-separated list of 1 to 100 integers, each in [0, 10000]";
    static final String MSG_CALLS_MISMATCH = "parameter calls must equal the number of waits in ms";
    static final String MSG_CONN = "parameter conn must be keep or new";

    /** A refusal: the contract's status and {"error":"…"} body. */
    static final class Refusal extends Exception {
        final int status;

        Refusal(int status, String msg) {
            super(msg, null, false, false); // no stack trace: a refusal is an answer
            this.status = status;
        }

        byte[] body() {
            return ("{\"error\":\"" + getMessage() + "\"}").getBytes(StandardCharsets.US_ASCII);
        }
    }

    static Refusal notFound() { return new Refusal(404, "not found"); }
    static Refusal method() { return new Refusal(405, "method not allowed: use GET or HEAD"); }
    static Refusal noDependency() { return new Refusal(503, "no dependency configured: start the server with -dependency host:port"); }
    static Refusal dependencyFailed() { return new Refusal(502, "dependency call failed"); }
    static Refusal dependencyTimeout() { return new Refusal(504, "dependency did not answer within the dependency timeout"); }

    /** Go's parseBounded: 1 to 9 ASCII digits within [lo, hi], else -1. */
    static int bounded(String s, int lo, int hi) {
        if (s == null || s.isEmpty() || s.length() > 9) return -1;
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') return -1;
            n = n * 10 + (c - '0');
        }
        return n >= lo && n <= hi ? n : -1;
    }

    static int ioMillis(String v) throws Refusal {
        if (v == null) throw new Refusal(400, "missing parameter ms");
        int n = bounded(v, 0, MAX_IO_MS);
        if (n < 0) throw new Refusal(400, MSG_IO);
        return n;
    }

    static int cpuWork(String v) throws Refusal {
        if (v == null) throw new Refusal(400, "missing parameter work");
        int n = bounded(v, 0, MAX_CPU_WORK);
        if (n < 0) throw new Refusal(400, MSG_WORK);
        return n;
    }

    /** A validated /fanout: one wait per call, the mode, and conn=new. */
    record Fanout(int[] waits, boolean par, boolean newConn) {
        String mode() { return par ? "par" : "seq"; }
    }

    /** Validates /fanout's raw values (null when absent) in Go's order. */
    static Fanout fanout(String calls, String ms, String mode, String conn) throws Refusal {
        int n = -1;
        if (calls != null && (n = bounded(calls, 1, MAX_FANOUT_CALLS)) < 0) throw new Refusal(400, MSG_CALLS);
        if (ms == null) throw new Refusal(400, "missing parameter ms");
        int[] waits;
        if (ms.indexOf(',') < 0) {
            if (n < 0) throw new Refusal(400, "missing parameter calls");
            int w = bounded(ms, 0, MAX_IO_MS);
            if (w < 0) throw new Refusal(400, MSG_IO);
            waits = new int[n];
            java.util.Arrays.fill(waits, w);
        } else {
            String[] items = ms.split(",", -1);
            if (items.length > MAX_FANOUT_CALLS) throw new Refusal(400, MSG_WAIT_LIST);
            waits = new int[items.length];
            for (int i = 0; i < items.length; i++) {
                if ((waits[i] = bounded(items[i], 0, MAX_IO_MS)) < 0) throw new Refusal(400, MSG_WAIT_LIST);
            }
            if (n >= 0 && n != waits.length) throw new Refusal(400, MSG_CALLS_MISMATCH);
        }
        if (mode == null) throw new Refusal(400, "missing parameter mode (seq or par)");
        if (!mode.equals("seq") && !mode.equals("par")) throw new Refusal(400, MSG_MODE);
        if (conn != null && !conn.equals("keep") && !conn.equals("new")) throw new Refusal(400, MSG_CONN);
        return new Fanout(waits, mode.equals("par"), "new".equals(conn));
    }

    static byte[] ioBody(int ms) {
        return ("{\"waited_ms\":" + ms + "}").getBytes(StandardCharsets.US_ASCII);
    }

    /** The fixed seed of the /cpu chain: SHA-256 of this phrase. */
    private static final byte[] CPU_SEED = sha256().digest(
            "server-model comparison lab /cpu seed".getBytes(StandardCharsets.US_ASCII));

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e); // every JDK has SHA-256
        }
    }

    /** work rounds of SHA-256 chained over the seed; work = 0 is the seed. */
    static byte[] cpuBody(int work) {
        MessageDigest md = sha256();
        byte[] d = CPU_SEED;
        for (int i = 0; i < work; i++) {
            d = md.digest(d);
        }
        return ("{\"work\":" + work + ",\"digest\":\"" + HexFormat.of().formatHex(d) + "\"}")
                .getBytes(StandardCharsets.US_ASCII);
    }

    /** {"calls":K,"mode":"…","elapsed_ms":E}: E from whole microseconds, 3 decimals, as Go. */
    static byte[] fanoutBody(int calls, String mode, long elapsedNanos) {
        long us = elapsedNanos / 1000;
        String ms = us / 1000 + "." + String.format("%03d", us % 1000);
        return ("{\"calls\":" + calls + ",\"mode\":\"" + mode + "\",\"elapsed_ms\":" + ms + "}")
                .getBytes(StandardCharsets.US_ASCII);
    }

    private Contract() {}
}
