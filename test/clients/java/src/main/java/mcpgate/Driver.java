package mcpgate;

import com.alibaba.nacos.api.NacosFactory;
import com.alibaba.nacos.api.naming.NamingService;
import com.alibaba.nacos.api.naming.listener.NamingEvent;
import com.alibaba.nacos.api.naming.pojo.Instance;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Properties;

/**
 * A driver for the real Nacos Java client (com.alibaba.nacos:nacos-client) against mcpgate's
 * Nacos gRPC port, run by test/nacos-grpc-clients.test.ts: registers an ephemeral instance,
 * discovers it (query and subscribe) and prints what it sees as JSON lines; exits when stdin
 * closes. Arguments: HOST HTTP_PORT SERVICE; the gRPC port is HTTP_PORT plus the system property
 * nacos.server.grpc.port.offset, as in every Nacos client.
 */
public final class Driver {
    private Driver() {
    }

    private static synchronized void emit(String json) {
        System.out.println(json);
        System.out.flush();
    }

    private static String hosts(List<Instance> instances) {
        List<String> out = new ArrayList<>();
        for (Instance i : instances) {
            out.add("\"" + i.getIp() + ":" + i.getPort() + "\"");
        }
        Collections.sort(out);
        return "[" + String.join(",", out) + "]";
    }

    public static void main(String[] args) throws Exception {
        String host = args[0];
        String httpPort = args[1];
        String service = args[2];
        Properties p = new Properties();
        p.put("serverAddr", host + ":" + httpPort);
        p.put("namespace", "public");
        if (System.getenv("NACOS_USERNAME") != null) {
            p.put("username", System.getenv("NACOS_USERNAME"));
            p.put("password", System.getenv("NACOS_PASSWORD"));
        }
        NamingService naming = NacosFactory.createNamingService(p);
        naming.registerInstance(service, "10.2.0.1", 8080);
        emit("{\"event\":\"registered\"}");
        List<Instance> found = naming.getAllInstances(service, false);
        emit("{\"event\":\"discovered\",\"hosts\":" + hosts(found) + "}");
        naming.subscribe(service, event -> {
            if (event instanceof NamingEvent) {
                emit("{\"event\":\"instances\",\"hosts\":" + hosts(((NamingEvent) event).getInstances()) + "}");
            }
        });
        emit("{\"event\":\"ready\"}");
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        while (in.readLine() != null) {
            // Wait for stdin to close.
        }
        naming.shutDown();
        emit("{\"event\":\"closed\"}");
        System.exit(0);
    }
}
