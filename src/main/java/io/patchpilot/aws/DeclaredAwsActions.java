package io.patchpilot.aws;

import java.io.IOException;
import java.lang.reflect.Executable;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;

/**
 * Collects every {@link AwsActions} declaration of the patchpilot classes: the one place a
 * test (or {@code deploy/}'s policy check) reads what the code needs.
 */
public final class DeclaredAwsActions {
    private static final String PACKAGE = "io/patchpilot";

    private DeclaredAwsActions() {}

    /** Action → the call sites (Class#method) that declare it, per principal. */
    public static Map<AwsActions.Principal, Map<String, Set<String>>> scan() {
        Map<AwsActions.Principal, Map<String, Set<String>>> out = new TreeMap<>();
        for (Class<?> type : patchpilotClasses()) {
            record(out, type.getAnnotation(AwsActions.class), type.getName());
            List<Executable> members = new ArrayList<>(List.of(type.getDeclaredMethods()));
            members.addAll(List.of(type.getDeclaredConstructors()));
            for (Executable m : members) {
                record(out, m.getAnnotation(AwsActions.class), type.getName() + "#" + m.getName());
            }
        }
        return out;
    }

    public static Set<String> actions(AwsActions.Principal principal) {
        return Collections.unmodifiableSet(
                scan().getOrDefault(principal, Map.of()).keySet());
    }

    private static void record(Map<AwsActions.Principal, Map<String, Set<String>>> out, AwsActions a, String site) {
        if (a == null) return;
        for (String action : a.value()) {
            if (!action.matches("[a-z0-9-]+:[A-Za-z0-9]+")) {
                throw new IllegalStateException(
                        site + " declares '" + action + "', not an IAM action such as ec2:CreateTags");
            }
            out.computeIfAbsent(a.principal(), p -> new TreeMap<>())
                    .computeIfAbsent(action, k -> new TreeSet<>())
                    .add(site);
        }
    }

    private static List<Class<?>> patchpilotClasses() {
        List<String> names = new ArrayList<>();
        try {
            Enumeration<URL> roots = DeclaredAwsActions.class.getClassLoader().getResources(PACKAGE);
            while (roots.hasMoreElements()) {
                URL root = roots.nextElement();
                if (root.getPath().contains("/test-classes/")) continue;
                if (root.getProtocol().equals("file")) {
                    Path dir = Path.of(root.toURI());
                    try (Stream<Path> files = Files.walk(dir)) {
                        files.map(p -> dir.getParent().getParent().relativize(p).toString())
                                .filter(n -> n.endsWith(".class"))
                                .forEach(names::add);
                    }
                } else if (root.getProtocol().equals("jar")) {
                    try (JarFile jar = ((JarURLConnection) root.openConnection()).getJarFile()) {
                        jar.stream()
                                .map(JarEntry::getName)
                                .filter(n -> n.startsWith(PACKAGE) && n.endsWith(".class"))
                                .forEach(names::add);
                    }
                }
            }
        } catch (IOException | URISyntaxException e) {
            throw new IllegalStateException("cannot list patchpilot classes: " + e.getMessage(), e);
        }
        List<Class<?>> classes = new ArrayList<>();
        for (String n : new TreeSet<>(names)) {
            String className = n.substring(0, n.length() - ".class".length())
                    .replace('/', '.')
                    .replace('\\', '.');
            try {
                classes.add(Class.forName(className, false, DeclaredAwsActions.class.getClassLoader()));
            } catch (ClassNotFoundException | LinkageError e) {
                throw new IllegalStateException("cannot load " + className, e);
            }
        }
        return classes;
    }
}
