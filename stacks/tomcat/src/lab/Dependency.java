package lab;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Fan-out's calls to the dependency (LAB_DEPENDENCY host:port) with the
 * JDK's HttpClient, shared by every request thread (it is thread-safe and
 * pools keep-alive connections). seq: one blocking send after another on
 * the request thread. par: sendAsync for every call, and the request thread
 * blocks until all are done; the first failure cancels the rest. conn=new
 * goes through a second client and sends "Connection: close" (allowed by
 * -Djdk.httpclient.allowRestrictedHeaders in run.sh): each connection is
 * closed after its answer, so that client's pool stays empty and every call
 * dials afresh (on the shared client it would take a pooled connection). Each call is bounded by LAB_DEPENDENCY_TIMEOUT (15 s): 504
 * past it, 502 on any other failure.
 */
final class Dependency {
    private static final String ADDR = System.getenv().getOrDefault("LAB_DEPENDENCY", "");
    private static final Duration TIMEOUT = Duration.ofMillis(
            (long) (Double.parseDouble(System.getenv().getOrDefault("LAB_DEPENDENCY_TIMEOUT", "15")) * 1000));
    private static final HttpClient CLIENT = newClient();
    /** conn=new: every request on it says "Connection: close", so its pool never holds a connection. */
    private static final HttpClient FRESH = newClient();

    private static HttpClient newClient() {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(TIMEOUT).build();
    }

    private static HttpClient client(boolean newConn) {
        return newConn ? FRESH : CLIENT;
    }

    private static HttpRequest request(int ms, boolean newConn) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://" + ADDR + "/io?ms=" + ms)).timeout(TIMEOUT);
        if (newConn) {
            b.header("Connection", "close");
        }
        return b.build();
    }

    private static Contract.Refusal refusal(Throwable t) {
        if (t instanceof CompletionException && t.getCause() != null) {
            t = t.getCause();
        }
        return t instanceof HttpTimeoutException ? Contract.dependencyTimeout() : Contract.dependencyFailed();
    }

    /** Runs f and returns its wall time in nanoseconds. */
    static long fanout(Contract.Fanout f) throws Contract.Refusal {
        if (ADDR.isEmpty()) {
            throw Contract.noDependency();
        }
        long start = System.nanoTime();
        if (!f.par()) {
            for (int ms : f.waits()) {
                HttpResponse<Void> r;
                try {
                    r = client(f.newConn()).send(request(ms, f.newConn()), HttpResponse.BodyHandlers.discarding());
                } catch (IOException e) {
                    throw refusal(e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw Contract.dependencyFailed();
                }
                if (r.statusCode() != 200) {
                    throw Contract.dependencyFailed();
                }
            }
            return System.nanoTime() - start;
        }
        CompletableFuture<?>[] calls = new CompletableFuture<?>[f.waits().length];
        CompletableFuture<Void> firstFailure = new CompletableFuture<>();
        for (int i = 0; i < calls.length; i++) {
            calls[i] = client(f.newConn()).sendAsync(request(f.waits()[i], f.newConn()), HttpResponse.BodyHandlers.discarding())
                    .thenAccept(r -> {
                        if (r.statusCode() != 200) {
                            throw new CompletionException(new IOException("dependency answered " + r.statusCode()));
                        }
                    });
            calls[i].whenComplete((ok, err) -> {
                if (err != null) {
                    firstFailure.completeExceptionally(err);
                }
            });
        }
        try {
            CompletableFuture.anyOf(CompletableFuture.allOf(calls), firstFailure).join();
        } catch (CompletionException e) {
            for (CompletableFuture<?> c : calls) {
                c.cancel(true);
            }
            throw refusal(e);
        }
        return System.nanoTime() - start;
    }

    private Dependency() {}
}
