package jllm.doctor.chart;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LineChartTest {
    @TempDir
    Path tmp;

    /** Where to leave the images for a person to look at: JLLM_CHART_DIR=DIR, else the temp dir. */
    private Path out() {
        String d = System.getProperty("jllm.chartDir", System.getenv("JLLM_CHART_DIR"));
        return d == null ? tmp : Path.of(d);
    }

    static LineChart lossCurves() {
        int n = 200;
        double[] steps = new double[n], train = new double[n];
        for (int i = 0; i < n; i++) { steps[i] = i + 1; train[i] = 2.0 + 8.0 * Math.exp(-i / 30.0) + 0.05 * Math.sin(i); }
        double[] vs = {25, 50, 75, 100, 125, 150, 175, 200}, val = new double[vs.length];
        for (int i = 0; i < vs.length; i++) val[i] = 2.2 + 8.0 * Math.exp(-vs[i] / 30.0);
        return LineChart.of("Fine-tuning loss", "step", "cross-entropy (nats/token)").logY(true)
                .series("train", steps, train).series("validation", vs, val);
    }

    @Test
    void pngIsARealImageOfTheRequestedSize() throws Exception {
        byte[] png = lossCurves().png();
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
        assertEquals(960, img.getWidth());
        assertEquals(540, img.getHeight());
        // Both series' colours appear: the lines were drawn, not just the frame.
        assertTrue(countColour(img, 0x0072B2) > 200, "train line drawn");
        assertTrue(countColour(img, 0xD55E00) > 50, "validation line drawn");
        Path p = lossCurves().write(out().resolve("loss.png"), true, List.of());
        assertTrue(Files.size(p) > 10_000);
    }

    @Test
    void svgHasTitleAxesAndLegend() throws Exception {
        LineChart c = LineChart.of("Per-layer error", "hidden state", "relative L2 error").logY(true)
                .categories(List.of("hidden.0", "hidden.1", "hidden.2", "logits"))
                .series("gguf f32 vs safetensors", new double[] {0, 1e-7, 3e-7, 5e-7})
                .series("q8_0", new double[] {1e-4, 2e-3, 4e-3, 8e-3})
                .marker("tolerance 1e-5", 1e-5);
        c.write(out().resolve("layers.svg"), true, List.of());
        c.write(out().resolve("layers.png"), true, List.of());
        String svg = c.svg();
        assertTrue(svg.startsWith("<svg") && svg.contains("Per-layer error") && svg.contains("hidden.2") && svg.contains("logits")
                && svg.contains("q8_0") && svg.contains("1e-5") && svg.contains("tolerance"), svg.substring(0, 400));
        assertTrue(svg.contains("cannot be drawn"), "the zero on the log axis is announced");
    }

    @Test
    void refusesUnknownExtensionsAndExistingFiles() throws Exception {
        assertThrows(IllegalArgumentException.class, () -> lossCurves().write(tmp.resolve("x.jpg"), false, List.of()));
        Files.writeString(tmp.resolve("old.png"), "keep");
        assertThrows(jllm.formats.FormatException.class, () -> lossCurves().write(tmp.resolve("old.png"), false, List.of()));
        assertEquals("keep", Files.readString(tmp.resolve("old.png")));
    }

    static int countColour(BufferedImage img, int rgb) {
        int n = 0;
        for (int y = 0; y < img.getHeight(); y++)
            for (int x = 0; x < img.getWidth(); x++) if ((img.getRGB(x, y) & 0xFFFFFF) == rgb) n++;
        return n;
    }
}
