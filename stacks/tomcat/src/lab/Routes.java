package lab;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/** The contract's routes, one servlet each (mapped in webapp/WEB-INF/web.xml). */
final class Routes {
    public static final class Plaintext extends ContractServlet {
        @Override
        void get(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            write(resp, 200, Contract.TEXT, Contract.PLAINTEXT);
        }
    }

    public static final class Json extends ContractServlet {
        @Override
        void get(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            write(resp, 200, Contract.JSON, Contract.JSON_BODY);
        }
    }

    /** Blocks the container thread for ms, like a JDBC call. */
    public static final class Io extends ContractServlet {
        @Override
        void get(HttpServletRequest req, HttpServletResponse resp) throws Contract.Refusal, IOException {
            int ms = Contract.ioMillis(req.getParameter("ms"));
            try {
                Thread.sleep(ms);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            write(resp, 200, Contract.JSON, Contract.ioBody(ms));
        }
    }

    public static final class Cpu extends ContractServlet {
        @Override
        void get(HttpServletRequest req, HttpServletResponse resp) throws Contract.Refusal, IOException {
            write(resp, 200, Contract.JSON, Contract.cpuBody(Contract.cpuWork(req.getParameter("work"))));
        }
    }

    /** Fan-out with blocking calls from the container thread (Dependency). */
    public static final class Fanout extends ContractServlet {
        @Override
        void get(HttpServletRequest req, HttpServletResponse resp) throws Contract.Refusal, IOException {
            Contract.Fanout f = Contract.fanout(req.getParameter("calls"), req.getParameter("ms"),
                    req.getParameter("mode"), req.getParameter("conn"));
            long elapsed = Dependency.fanout(f);
            write(resp, 200, Contract.JSON, Contract.fanoutBody(f.waits().length, f.mode(), elapsed));
        }
    }

    /** Mapped to "/": every other path is the contract's JSON 404. */
    public static final class NotFound extends ContractServlet {
        @Override
        void get(HttpServletRequest req, HttpServletResponse resp) throws Contract.Refusal {
            throw Contract.notFound();
        }
    }

    private Routes() {}
}
