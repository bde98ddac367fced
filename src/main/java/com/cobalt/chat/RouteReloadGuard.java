package com.cobalt.chat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

import org.apache.camel.CamelContext;
import org.apache.camel.Route;
import org.apache.camel.RouteConfigurationsBuilder;
import org.apache.camel.RoutesBuilder;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.model.Model;
import org.apache.camel.model.RouteDefinition;
import org.apache.camel.spi.Resource;
import org.apache.camel.spi.RoutesBuilderLoader;
import org.apache.camel.spi.RoutesLoader;
import org.apache.camel.support.PluginHelper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The routes loader Camel's route reload (CHAT_ROUTES_RELOAD=true) goes through; loading at start is Camel's own.
 * Camel replaces every running route whose id a reloaded file declares, whichever file that route came from, and
 * removes it before the new one is built: an added file with another file's route id silently took that route over,
 * and a file whose new version failed to build lost its routes until it was saved again (black-box probe,
 * 2026-12-05). Here each reloaded file is loaded on its own:
 * <ul>
 * <li>a file declaring a route id that a running route from another file (or from no file) has is refused with one
 * WARN naming the file and the ids; nothing of it is loaded. A route whose file is gone may be taken over: that is
 * a route moved to another file;</li>
 * <li>when a file's routes fail to build, the routes it had are put back from their definitions and one WARN names
 * the file and the error;</li>
 * <li>a file that does not parse is thrown on as before (Camel logs it, and loads it again with the next change),
 * but no longer keeps the other files of the same reload from loading.</li>
 * </ul>
 */
final class RouteReloadGuard implements RoutesLoader {

    private static final Logger LOG = LoggerFactory.getLogger(RouteReloadGuard.class);

    private final RoutesLoader camelLoader;
    /** Per file location, the last refusal logged and the content it refused. */
    private final Map<String, String> refusals = new ConcurrentHashMap<>();
    private CamelContext camel;

    private RouteReloadGuard(CamelContext camel, RoutesLoader camelLoader) {
        this.camel = camel;
        this.camelLoader = camelLoader;
    }

    /** Puts the guard in front of the context's routes loader. */
    static void install(CamelContext camel) {
        RoutesLoader loader = PluginHelper.getRoutesLoader(camel);
        if (!(loader instanceof RouteReloadGuard)) {
            camel.getCamelContextExtension().addContextPlugin(RoutesLoader.class, new RouteReloadGuard(camel, loader));
        }
    }

    @Override
    public Set<String> updateRoutes(Collection<Resource> resources) throws Exception {
        Set<String> updated = new LinkedHashSet<>();
        Exception unreadable = null;
        for (Resource resource : resources) {
            Collection<RoutesBuilder> builders;
            List<String> declared = new ArrayList<>();
            try {
                builders = camelLoader.findRoutesBuilders(List.of(resource));
                // the ids the file declares: this builds the definitions only, nothing reaches the context yet
                for (RoutesBuilder builder : builders) {
                    if (builder instanceof RouteBuilder routes) {
                        for (RouteDefinition definition : routes.configureRoutes(camel).getRoutes()) {
                            if (definition.getRouteId() != null) {
                                declared.add(definition.getRouteId());
                            }
                        }
                    }
                }
            } catch (Exception e) {
                // a file that does not parse: thrown on after the other files, and Camel logs it as before
                if (unreadable == null) {
                    unreadable = e;
                } else {
                    unreadable.addSuppressed(e);
                }
                continue;
            }
            updated.addAll(update(resource, builders, declared));
        }
        if (unreadable != null) {
            throw unreadable;
        }
        return updated;
    }

    private Set<String> update(Resource resource, Collection<RoutesBuilder> builders, List<String> declared) {
        Map<String, String> clashes = new LinkedHashMap<>();
        List<RouteDefinition> previous = new ArrayList<>();
        Model model = camel.getCamelContextExtension().getContextPlugin(Model.class);
        for (String id : declared) {
            Route running = camel.getRoute(id);
            if (running == null) {
                continue;
            }
            Resource owner = running.getSourceResource();
            if (sameFile(owner, resource) || (owner != null && filePath(owner) != null && !Files.exists(filePath(owner)))) {
                // its own route, or one whose file is gone (a route moved to another file): replaced
                RouteDefinition definition = model.getRouteDefinition(id);
                if (definition != null) {
                    previous.add(definition);
                }
            } else {
                clashes.put(id, owner == null ? "no route file" : fileName(owner));
            }
        }
        if (!clashes.isEmpty()) {
            refuse(resource, clashes.size() == 1
                    ? "route id " + clashes.keySet().iterator().next() + " is already loaded from "
                    + clashes.values().iterator().next()
                    : "route ids " + String.join(", ", clashes.keySet()) + " are already loaded from "
                    + clashes.entrySet().stream().map(e -> e.getValue() + " (" + e.getKey() + ")")
                            .collect(Collectors.joining(", ")));
            return Set.of();
        }
        try {
            for (RoutesBuilder builder : builders) {
                if (builder instanceof RouteConfigurationsBuilder configurations) {
                    configurations.updateRouteConfigurationsToCamelContext(camel);
                }
            }
            Set<String> updated = new LinkedHashSet<>();
            for (RoutesBuilder builder : builders) {
                updated.addAll(builder.updateRoutesToCamelContext(camel));
            }
            refusals.remove(resource.getLocation());
            return updated;
        } catch (Exception e) {
            // not thrown on: Camel would load this file again with every later change, restarting its routes
            String notRestored = restore(declared, previous);
            if (notRestored == null) {
                refuse(resource, e.getMessage());
            } else {
                refuse(resource, e.getMessage(), "its routes could not be put back: " + notRestored);
            }
            return Set.of();
        }
    }

    /**
     * One WARN per refusal: a written file is often reported twice (created, then modified), and the same content
     * refused for the same reason is logged once.
     */
    private void refuse(Resource resource, String reason) {
        refuse(resource, reason, "the running routes keep serving unchanged");
    }

    private void refuse(Resource resource, String reason, String outcome) {
        String message = "Route file " + fileName(resource) + " not reloaded: " + reason + "; " + outcome;
        String fingerprint = message + "\n" + contentHash(resource);
        if (fingerprint.equals(refusals.put(resource.getLocation(), fingerprint))) {
            LOG.debug("{} (again)", message);
        } else {
            LOG.warn(message);
        }
    }

    private static int contentHash(Resource resource) {
        try (InputStream in = resource.getInputStream()) {
            return Arrays.hashCode(in.readAllBytes());
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /**
     * Removes what the failed update left of the file's routes and starts the routes it had again; null when that
     * worked, else what went wrong.
     */
    private String restore(List<String> declared, List<RouteDefinition> previous) {
        try {
            for (String id : declared) {
                if (camel.getRoute(id) != null) {
                    camel.getRouteController().stopRoute(id);
                    camel.removeRoute(id);
                }
            }
            if (!previous.isEmpty()) {
                camel.getCamelContextExtension().getContextPlugin(Model.class).addRouteDefinitions(previous);
            }
            return null;
        } catch (Exception e) {
            LOG.debug("Putting back routes {} failed", previous.stream().map(RouteDefinition::getRouteId)
                    .collect(Collectors.joining(", ")), e);
            return e.getMessage();
        }
    }

    /**
     * Whether both name the same file: a route loaded at start names it as the include pattern spelt it (relative to
     * the working directory with the default {@code routes}), a reloaded file by its absolute path.
     */
    static boolean sameFile(Resource a, Resource b) {
        if (a == null || b == null) {
            return false;
        }
        Path pa = filePath(a);
        Path pb = filePath(b);
        if (pa != null && pb != null) {
            return pa.equals(pb);
        }
        return a.getLocation() != null && a.getLocation().equals(b.getLocation());
    }

    /** The absolute path of a {@code file:} resource, else null. */
    static Path filePath(Resource resource) {
        String location = resource.getLocation();
        if (location == null || !location.startsWith("file:")) {
            return null;
        }
        try {
            return Path.of(location.substring("file:".length())).toAbsolutePath().normalize();
        } catch (InvalidPathException e) {
            return null;
        }
    }

    private static String fileName(Resource resource) {
        String location = resource.getLocation();
        return location == null ? "?" : location.substring(Math.max(location.lastIndexOf('/'),
                location.lastIndexOf(':')) + 1);
    }

    @Override
    public Set<String> updateRoutes(Resource... resources) throws Exception {
        return updateRoutes(List.of(resources));
    }

    @Override
    public CamelContext getCamelContext() {
        return camel;
    }

    @Override
    public void setCamelContext(CamelContext camelContext) {
        this.camel = camelContext;
        camelLoader.setCamelContext(camelContext);
    }

    @Override
    public boolean isIgnoreLoadingError() {
        return camelLoader.isIgnoreLoadingError();
    }

    @Override
    public void setIgnoreLoadingError(boolean ignoreLoadingError) {
        camelLoader.setIgnoreLoadingError(ignoreLoadingError);
    }

    @Override
    public RoutesBuilderLoader getRoutesLoader(String extension) throws Exception {
        return camelLoader.getRoutesLoader(extension);
    }

    @Override
    public void loadRoutes(Collection<Resource> resources) throws Exception {
        camelLoader.loadRoutes(resources);
    }

    @Override
    public void loadRoutes(Resource... resources) throws Exception {
        camelLoader.loadRoutes(resources);
    }

    @Override
    public Collection<RoutesBuilder> findRoutesBuilders(Resource... resources) throws Exception {
        return camelLoader.findRoutesBuilders(resources);
    }

    @Override
    public Collection<RoutesBuilder> findRoutesBuilders(Collection<Resource> resources) throws Exception {
        return camelLoader.findRoutesBuilders(resources);
    }

    @Override
    public Collection<RoutesBuilder> findRoutesBuilders(Collection<Resource> resources, boolean optional)
            throws Exception {
        return camelLoader.findRoutesBuilders(resources, optional);
    }

    @Override
    public void preParseRoute(Resource resource, boolean optional) throws Exception {
        camelLoader.preParseRoute(resource, optional);
    }

    @Override
    public void initRoutesBuilderLoader(RoutesBuilderLoader loader) {
        camelLoader.initRoutesBuilderLoader(loader);
    }
}
