package bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import javax.imageio.ImageIO;

/** Line charts in plain Java2D (no chart library): panels side by side, one PNG. */
final class Chart {

    record Series(String name, double[] x, double[] y) {
    }

    record Panel(String title, String xLabel, String yLabel, List<Series> series) {
    }

    private static final Color[] COLORS = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c),
            new Color(0xff7f0e), new Color(0x9467bd), new Color(0x8c564b)};

    static void write(Path file, List<Panel> panels) throws Exception {
        int pw = 520;
        int ph = 380;
        BufferedImage img = new BufferedImage(pw * panels.size(), ph, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, img.getWidth(), img.getHeight());
        for (int i = 0; i < panels.size(); i++) {
            draw(g, panels.get(i), i * pw, pw, ph);
        }
        g.dispose();
        ImageIO.write(img, "png", file.toFile());
    }

    private static void draw(Graphics2D g, Panel p, int x0, int w, int h) {
        int left = x0 + 62;
        int right = x0 + w - 18;
        int top = 40;
        int bottom = h - 92;
        double xmin = Double.MAX_VALUE;
        double xmax = -Double.MAX_VALUE;
        double ymax = 0;
        for (Series s : p.series()) {
            for (int i = 0; i < s.x().length; i++) {
                if (Double.isNaN(s.y()[i])) {
                    continue;
                }
                xmin = Math.min(xmin, s.x()[i]);
                xmax = Math.max(xmax, s.x()[i]);
                ymax = Math.max(ymax, s.y()[i]);
            }
        }
        if (xmin == Double.MAX_VALUE) {
            xmin = 0;
            xmax = 1;
        }
        if (xmax == xmin) {
            xmax = xmin + 1;
        }
        xmin = Math.min(0, xmin);
        ymax = niceCeil(ymax <= 0 ? 1 : ymax * 1.08);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
        g.setColor(Color.BLACK);
        g.drawString(p.title(), left, 22);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        // grid and axes
        for (int k = 0; k <= 5; k++) {
            int y = bottom - (bottom - top) * k / 5;
            g.setColor(new Color(0xe6e6e6));
            g.drawLine(left, y, right, y);
            g.setColor(Color.DARK_GRAY);
            String label = fmt(ymax * k / 5);
            g.drawString(label, left - 6 - g.getFontMetrics().stringWidth(label), y + 4);
        }
        double[] xt = xTicks(p.series());
        for (double v : xt) {
            int x = sx(v, xmin, xmax, left, right);
            g.setColor(new Color(0xe6e6e6));
            g.drawLine(x, top, x, bottom);
            g.setColor(Color.DARK_GRAY);
            String label = fmt(v);
            g.drawString(label, x - g.getFontMetrics().stringWidth(label) / 2, bottom + 14);
        }
        g.setColor(Color.BLACK);
        g.drawLine(left, bottom, right, bottom);
        g.drawLine(left, top, left, bottom);
        g.drawString(p.xLabel(), (left + right - g.getFontMetrics().stringWidth(p.xLabel())) / 2, bottom + 30);
        Graphics2D r = (Graphics2D) g.create();
        r.rotate(-Math.PI / 2);
        r.drawString(p.yLabel(), -(top + bottom + r.getFontMetrics().stringWidth(p.yLabel())) / 2, x0 + 14);
        r.dispose();
        // series
        int legendY = bottom + 48;
        int legendX = left;
        for (int si = 0; si < p.series().size(); si++) {
            Series s = p.series().get(si);
            Color c = COLORS[si % COLORS.length];
            g.setColor(c);
            g.setStroke(new BasicStroke(2f));
            int px = -1;
            int py = -1;
            for (int i = 0; i < s.x().length; i++) {
                if (Double.isNaN(s.y()[i])) {
                    px = -1;
                    continue;
                }
                int x = sx(s.x()[i], xmin, xmax, left, right);
                int y = bottom - (int) Math.round((bottom - top) * s.y()[i] / ymax);
                if (px >= 0) {
                    g.drawLine(px, py, x, y);
                }
                g.fillOval(x - 3, y - 3, 7, 7);
                px = x;
                py = y;
            }
            g.setStroke(new BasicStroke(1f));
            int lw = g.getFontMetrics().stringWidth(s.name()) + 30;
            if (legendX + lw > right) {
                legendX = left;
                legendY += 15;
            }
            g.drawLine(legendX, legendY - 4, legendX + 16, legendY - 4);
            g.setColor(Color.BLACK);
            g.drawString(s.name(), legendX + 20, legendY);
            legendX += lw;
        }
    }

    private static double[] xTicks(List<Series> series) {
        List<Double> xs = new ArrayList<>();
        for (Series s : series) {
            for (double v : s.x()) {
                if (!xs.contains(v)) {
                    xs.add(v);
                }
            }
        }
        return xs.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    }

    private static int sx(double v, double min, double max, int left, int right) {
        return left + (int) Math.round((right - left) * (v - min) / (max - min));
    }

    private static double niceCeil(double v) {
        double mag = Math.pow(10, Math.floor(Math.log10(v)));
        for (double m : new double[] {1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10}) {
            if (m * mag >= v) {
                return m * mag;
            }
        }
        return 10 * mag;
    }

    private static String fmt(double v) {
        if (v == Math.rint(v)) {
            return String.format(Locale.ROOT, "%.0f", v);
        }
        return Math.abs(v) >= 10 ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.1f", v);
    }
}
