package com.cobalt.chat;

import java.io.InputStream;
import java.net.URL;
import java.util.Enumeration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.camel.spi.ClassResolver;

/**
 * Camel's class resolver, remembering the classes it found by name. The simple language's {@code is} operator
 * ({@code ${exchangeProperty.cobaltUpstream} is 'com.cobalt.chat.stream.RelaySession'} in chat-record and the
 * provider-call Kamelet) resolves its class name on every evaluation: a class loader look-up per chat, twice, through
 * the loaders' locks. Resolved once here, it is a map read. A name that resolved to nothing is not remembered (a
 * class may be added to a loader later); nor are look-ups through an explicit class loader, which go straight to
 * the resolver this one wraps, as does everything else.
 */
public final class CachingClassResolver implements ClassResolver {

    /** Names come from route definitions, not from requests; the bound only keeps a mistake from growing it. */
    static final int MAX_NAMES = 1024;

    private final ClassResolver resolver;
    private final ConcurrentHashMap<String, Class<?>> resolved = new ConcurrentHashMap<>();

    public CachingClassResolver(ClassResolver resolver) {
        this.resolver = resolver;
    }

    @Override
    public Class<?> resolveClass(String name) {
        Class<?> known = resolved.get(name);
        if (known != null) {
            return known;
        }
        Class<?> found = resolver.resolveClass(name);
        if (found != null && resolved.size() < MAX_NAMES) {
            resolved.putIfAbsent(name, found);
        }
        return found;
    }

    /** Unchecked, as Camel's own resolver does it: the caller names the type it expects. */
    @Override
    @SuppressWarnings("unchecked")
    public <T> Class<T> resolveClass(String name, Class<T> type) {
        return (Class<T>) resolveClass(name);
    }

    @Override
    public Class<?> resolveMandatoryClass(String name) throws ClassNotFoundException {
        Class<?> found = resolveClass(name);
        if (found == null) {
            throw new ClassNotFoundException(name);
        }
        return found;
    }

    @Override
    public <T> Class<T> resolveMandatoryClass(String name, Class<T> type) throws ClassNotFoundException {
        Class<T> found = resolveClass(name, type);
        if (found == null) {
            throw new ClassNotFoundException(name);
        }
        return found;
    }

    @Override
    public Class<?> resolveClass(String name, ClassLoader loader) {
        return resolver.resolveClass(name, loader);
    }

    @Override
    public <T> Class<T> resolveClass(String name, Class<T> type, ClassLoader loader) {
        return resolver.resolveClass(name, type, loader);
    }

    @Override
    public Class<?> resolveMandatoryClass(String name, ClassLoader loader) throws ClassNotFoundException {
        return resolver.resolveMandatoryClass(name, loader);
    }

    @Override
    public <T> Class<T> resolveMandatoryClass(String name, Class<T> type, ClassLoader loader)
            throws ClassNotFoundException {
        return resolver.resolveMandatoryClass(name, type, loader);
    }

    @Override
    public void addClassLoader(ClassLoader classLoader) {
        resolver.addClassLoader(classLoader);
    }

    @Override
    public Set<ClassLoader> getClassLoaders() {
        return resolver.getClassLoaders();
    }

    @Override
    public ClassLoader getClassLoader(String name) {
        return resolver.getClassLoader(name);
    }

    @Override
    public InputStream loadResourceAsStream(String uri) {
        return resolver.loadResourceAsStream(uri);
    }

    @Override
    public URL loadResourceAsURL(String uri) {
        return resolver.loadResourceAsURL(uri);
    }

    @Override
    public Enumeration<URL> loadResourcesAsURL(String uri) {
        return resolver.loadResourcesAsURL(uri);
    }

    @Override
    public Enumeration<URL> loadAllResourcesAsURL(String uri) {
        return resolver.loadAllResourcesAsURL(uri);
    }
}
