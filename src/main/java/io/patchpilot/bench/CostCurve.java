package io.patchpilot.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/**
 * {@code patchpilot bench --curve}: a benchmark run at several sizes, its time, AWS calls and peak
 * heap against size, as a Markdown table and an SVG plot (hand-written: three small charts side by
 * side, each with the dashed line "linear from the smallest size", so growth above it is
 * worse than linear and below it better).
 */
final class CostCurve {
    /** One size of the curve. */
    record Point(int size, double seconds, double calls, double peakHeapMiB, double load) {}

    private CostCurve() {}

    /** The figures of a {@code --only patching} run: dispatch time, all AWS calls while dispatching, peak heap. */
    static Point patching(int accounts, List<BenchResult> results, double load) {
        return new Point(
                accounts,
                results.get(0).ours(),
                find(results, "(d) all AWS calls").ours(),
                find(results, "peak heap").ours(),
                load);
    }

    /** The figures of a {@code --only tagging} run: time to tag every event, AWS calls, peak heap. */
    static Point tagging(int events, List<BenchResult> results, double load) {
        BenchResult r = results.get(0);
        double n = ((Number) r.extra().get("events")).doubleValue();
        return new Point(
                events,
                n / r.ours(),
                ((Number) r.extra().get("awsCalls")).doubleValue(),
                ((Number) r.extra().get("peakHeapMiB")).doubleValue(),
                load);
    }

    private static BenchResult find(List<BenchResult> results, String prefix) {
        return results.stream()
                .filter(r -> r.name().startsWith(prefix))
                .findFirst()
                .orElseThrow(() -> new IllegalStateException("no benchmark line '" + prefix + "'"));
    }

    /** Each figure relative to the smallest size's, per unit of size: 1.00 is linear, below it better. */
    static double perUnit(Point p, Point first, ToDoubleFunction<Point> f) {
        return (f.applyAsDouble(p) / p.size()) / (f.applyAsDouble(first) / first.size());
    }

    static String table(String sizeName, List<Point> points) {
        StringBuilder b = new StringBuilder();
        b.append("| ")
                .append(sizeName)
                .append(
                        " | time s | AWS calls | peak heap MiB | time per unit vs smallest | calls per unit vs smallest | load avg |\n");
        b.append("|---|---|---|---|---|---|---|\n");
        Point first = points.get(0);
        for (Point p : points) {
            b.append(String.format(
                    Locale.ROOT,
                    "| %,d | %.1f | %,.0f | %.0f | %.2f | %.2f | %.1f |%n",
                    p.size(),
                    p.seconds(),
                    p.calls(),
                    p.peakHeapMiB(),
                    perUnit(p, first, Point::seconds),
                    perUnit(p, first, Point::calls),
                    p.load()));
        }
        return b.toString();
    }

    /** Three charts side by side: time, AWS calls, peak heap against size. */
    static String svg(String title, String sizeName, List<Point> points) {
        int w = 300;
        int h = 220;
        StringBuilder b = new StringBuilder();
        b.append(String.format(
                Locale.ROOT,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"11\">%n",
                3 * w,
                h + 40));
        b.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        b.append(String.format(
                Locale.ROOT,
                "<text x=\"%d\" y=\"18\" text-anchor=\"middle\" font-size=\"14\">%s</text>%n",
                3 * w / 2,
                escape(title)));
        chart(b, 0, 30, w, h, "time (s)", sizeName, points, Point::seconds);
        chart(b, w, 30, w, h, "AWS calls", sizeName, points, Point::calls);
        chart(b, 2 * w, 30, w, h, "peak heap (MiB)", sizeName, points, Point::peakHeapMiB);
        b.append("</svg>\n");
        return b.toString();
    }

    private static void chart(
            StringBuilder b,
            int x0,
            int y0,
            int w,
            int h,
            String name,
            String sizeName,
            List<Point> points,
            ToDoubleFunction<Point> f) {
        int left = x0 + 55;
        int right = x0 + w - 15;
        int top = y0 + 20;
        int bottom = y0 + h - 35;
        double maxX = points.stream().mapToDouble(Point::size).max().orElse(1);
        Point first = points.get(0);
        double linearAtMax = f.applyAsDouble(first) / first.size() * maxX;
        double maxY = Math.max(
                points.stream().mapToDouble(f).max().orElse(1),
                Math.min(linearAtMax, 2 * points.stream().mapToDouble(f).max().orElse(1)));
        maxY = maxY <= 0 ? 1 : maxY * 1.1;
        double sx = (right - left) / maxX;
        double sy = (bottom - top) / maxY;
        b.append(String.format(
                Locale.ROOT,
                "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-size=\"12\">%s</text>%n",
                (left + right) / 2,
                y0 + 12,
                escape(name)));
        b.append(String.format(
                Locale.ROOT,
                "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>%n"
                        + "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>%n",
                left,
                bottom,
                right,
                bottom,
                left,
                bottom,
                left,
                top));
        for (int i = 0; i <= 4; i++) {
            double v = maxY * i / 4;
            double y = bottom - v * sy;
            b.append(String.format(
                    Locale.ROOT,
                    "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                            + "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>%n",
                    left,
                    y,
                    right,
                    y,
                    left - 4,
                    y + 4,
                    compact(v)));
        }
        for (Point p : points) {
            b.append(String.format(
                    Locale.ROOT,
                    "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>%n",
                    left + p.size() * sx,
                    bottom + 14,
                    compact(p.size())));
        }
        b.append(String.format(
                Locale.ROOT,
                "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>%n",
                (left + right) / 2,
                bottom + 28,
                escape(sizeName)));
        // linear from the smallest size, clipped to the chart
        double yLinear = Math.min(linearAtMax, maxY);
        double xLinear = linearAtMax <= maxY ? maxX : maxX * maxY / linearAtMax;
        b.append(String.format(
                Locale.ROOT,
                "<line x1=\"%d\" y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#999\" stroke-dasharray=\"4 3\"/>%n",
                left,
                bottom,
                left + xLinear * sx,
                bottom - yLinear * sy));
        List<String> xy = new ArrayList<>();
        for (Point p : points)
            xy.add(String.format(Locale.ROOT, "%.1f,%.1f", left + p.size() * sx, bottom - f.applyAsDouble(p) * sy));
        b.append("<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\" points=\"")
                .append(String.join(" ", xy))
                .append("\"/>\n");
        for (String pt : xy) {
            String[] c = pt.split(",");
            b.append("<circle cx=\"")
                    .append(c[0])
                    .append("\" cy=\"")
                    .append(c[1])
                    .append("\" r=\"3\" fill=\"#1f77b4\"/>\n");
        }
    }

    static String compact(double v) {
        if (v >= 10_000) return String.format(Locale.ROOT, "%.0fk", v / 1000);
        if (v >= 1000) return String.format(Locale.ROOT, "%.1fk", v / 1000);
        if (v >= 10) return String.format(Locale.ROOT, "%.0f", v);
        return String.format(Locale.ROOT, "%.1f", v);
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }

    /** Writes the SVG and the table beside it ({@code name}.svg, {@code name}.md) under {@code dir}. */
    static void write(Path dir, String name, String title, String sizeName, List<Point> points) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(name + ".svg"), svg(title, sizeName, points));
        Files.writeString(dir.resolve(name + ".md"), table(sizeName, points));
        System.err.println("curve: " + dir.resolve(name + ".svg") + "\n" + table(sizeName, points));
    }
}
