package com.cobalt.chat;

import com.cobalt.chat.config.InvalidConfigurationException;
import org.apache.camel.main.Main;

/** Starts the gateway: Camel Main with ./application.properties and ./routes/*.camel.yaml. */
public final class Application {

    public static final String PROPERTIES_LOCATION = "file:application.properties";

    private Application() {
    }

    public static void main(String[] args) throws Exception {
        Main main = new Main();
        // the working directory's file, not the jar's class path: operators edit it without a rebuild
        main.setPropertyPlaceholderLocations(PROPERTIES_LOCATION);
        try {
            int code = main.run(args);
            System.exit(code);
        } catch (Exception e) {
            InvalidConfigurationException invalid = find(e);
            if (invalid == null) {
                throw e;
            }
            System.err.println("Cobalt Chat Gateway cannot start. " + invalid.getMessage());
            System.exit(2);
        }
    }

    private static InvalidConfigurationException find(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof InvalidConfigurationException ice) {
                return ice;
            }
        }
        return null;
    }
}
