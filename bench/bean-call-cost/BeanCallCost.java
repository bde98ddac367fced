import java.lang.management.ManagementFactory;

import org.apache.camel.CamelContext;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.Variable;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.model.RouteDefinition;

/**
 * What one bean call costs a route, by how the route keeps its answer: {@code setVariable} with the {@code method}
 * language, or {@code to: bean:...} with {@code variableReceive} (docs/ARCHITECTURE.md, "A bean's answer into a
 * variable"). Three routes on an exchange like a chat's (request-reply, ten variables, eight properties): none, twelve
 * calls one way, twelve the other. Prints bytes allocated and microseconds per exchange, measured on the calling
 * thread (direct: is synchronous), after a warm-up, four rounds.
 *
 * <pre>java -cp target/cobalt-chat.jar bench/bean-call-cost/BeanCallCost.java</pre>
 */
public class BeanCallCost {

    public static class Answers {
        public String answer(@Variable("a") String a, @Variable("b") String b) {
            return a + b;
        }
    }

    static final int CALLS = 12;

    public static void main(String[] args) throws Exception {
        try (CamelContext camel = new DefaultCamelContext()) {
            camel.getRegistry().bind("answers", new Answers());
            camel.addRoutes(new RouteBuilder() {
                @Override
                public void configure() {
                    state(from("direct:none"));
                    RouteDefinition method = state(from("direct:setVariable-method"));
                    for (int i = 0; i < CALLS; i++) {
                        method.setVariable("v" + i, method("answers", "answer"));
                    }
                    RouteDefinition to = state(from("direct:to-variableReceive"));
                    for (int i = 0; i < CALLS; i++) {
                        to.toV("bean:answers?method=answer", null, "v" + i);
                    }
                }

                private RouteDefinition state(RouteDefinition route) {
                    route.setVariable("a", constant("1")).setVariable("b", constant("2"));
                    for (int i = 0; i < 8; i++) {
                        route.setVariable("other" + i, constant("x")).setProperty("property" + i, constant("y"));
                    }
                    return route;
                }
            });
            camel.start();
            ProducerTemplate template = camel.createProducerTemplate();
            var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
            long me = Thread.currentThread().getId();
            String[] routes = {"direct:none", "direct:setVariable-method", "direct:to-variableReceive"};
            System.out.printf("%-26s %14s %12s%n", "route (" + CALLS + " calls)", "bytes/exchange", "us/exchange");
            for (int round = 1; round <= 4; round++) {
                for (String route : routes) {
                    int n = 200_000;
                    for (int i = 0; i < 20_000; i++) {
                        template.requestBody(route, "x");
                    }
                    long bytes = threads.getThreadAllocatedBytes(me);
                    long start = System.nanoTime();
                    for (int i = 0; i < n; i++) {
                        template.requestBody(route, "x");
                    }
                    long nanos = System.nanoTime() - start;
                    bytes = threads.getThreadAllocatedBytes(me) - bytes;
                    System.out.printf("%-26s %14.0f %12.2f%n", route.substring(7), bytes / (double) n, nanos / 1000.0 / n);
                }
            }
        }
    }
}
