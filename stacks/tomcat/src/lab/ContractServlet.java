package lab;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/**
 * The base of every route: GET and HEAD only (a 405 JSON with Allow
 * otherwise), and a Refusal becomes its JSON answer. HttpServlet's doHead
 * runs doGet and drops the body, keeping its Content-Length. Each request
 * runs on one of the connector's threads (maxThreads in conf/server.xml);
 * a wait blocks that thread.
 */
abstract class ContractServlet extends HttpServlet {
    /** Serves one GET; runs on the request's container thread. */
    abstract void get(HttpServletRequest req, HttpServletResponse resp) throws Contract.Refusal, IOException;

    @Override
    protected void service(HttpServletRequest req, HttpServletResponse resp) throws jakarta.servlet.ServletException, IOException {
        String m = req.getMethod();
        if (!m.equals("GET") && !m.equals("HEAD")) {
            resp.setHeader("Allow", Contract.ALLOWED_METHODS);
            refuse(resp, Contract.method());
            return;
        }
        super.service(req, resp);
    }

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        try {
            get(req, resp);
        } catch (Contract.Refusal r) {
            refuse(resp, r);
        }
    }

    static void write(HttpServletResponse resp, int status, String type, byte[] body) throws IOException {
        resp.setStatus(status);
        resp.setContentType(type);
        resp.setContentLength(body.length);
        resp.getOutputStream().write(body);
    }

    static void refuse(HttpServletResponse resp, Contract.Refusal r) throws IOException {
        write(resp, r.status, Contract.JSON, r.body());
    }
}
