package jllm.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import jllm.doctor.ModelFiles;
import jllm.doctor.chart.LineChart;
import jllm.doctor.numerics.NumberFormat;
import jllm.doctor.numerics.Numerics;
import jllm.doctor.report.HtmlReport;
import jllm.tensor.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "numerics", mixinStandardHelpOptions = true,
        description = {"The number formats models are trained and stored in (fp32, tf32, bf16, fp16, fp8 e4m3/e5m2, fp6 e2m3/e3m2, fp4 e2m1,",
                "int8, nf4): bits, range, epsilon, a rough multiplier cost (exponent bits + mantissa bits^2), the error of rounding a tensor",
                "to each (plain cast, and with block scaling), and how RoPE positions collapse in bf16."})
final class DoctorNumericsCommand implements Callable<Integer> {
    @Option(names = "--model", description = "Model to take --tensor from (HF directory or .gguf)")
    Path model;

    @Option(names = "--tensor", description = "Tensor to round (name as stored in the model's file); default: random normal values")
    String tensor;

    @Option(names = "--count", defaultValue = "1048576", description = "Random values (or the first values of --tensor) to use (default ${DEFAULT-VALUE})")
    int count;

    @Option(names = "--std", defaultValue = "0.02", description = "Standard deviation of the random values (default ${DEFAULT-VALUE}, a typical weight scale)")
    double std;

    @Option(names = "--position", defaultValue = "8192", description = "Centre of the RoPE position demonstration (default ${DEFAULT-VALUE})")
    int position;

    @picocli.CommandLine.Mixin
    DoctorOutputs out;

    @Override
    public Integer call() {
        if (count < 1 || count > 1 << 26) throw new IllegalArgumentException("--count must be in 1.." + (1 << 26) + ", got " + count);
        if (position < 16 || position > 1 << 20) throw new IllegalArgumentException("--position must be in 16.." + (1 << 20) + ", got " + position);
        if (!(std > 0) || Double.isInfinite(std)) throw new IllegalArgumentException("--std must be a positive number, got " + std);
        if ((tensor == null) != (model == null)) throw new IllegalArgumentException("--tensor and --model go together");
        List<Path> inputs = model == null ? List.of() : List.of(model);
        out.check(inputs);
        float[] x;
        String what;
        if (tensor != null) {
            try (ModelFiles m = ModelFiles.open(model)) {
                if (!m.store.has(tensor)) throw new IllegalArgumentException(model + ": no tensor '" + tensor + "' (names as stored in the file)");
                Tensor t = m.store.tensor(tensor);
                int n = (int) Math.min(count, t.numel());
                x = new float[n];
                t.read(0, x, 0, n);
                what = String.format(Locale.ROOT, "%s %s (%s, first %d of %d values)", model.getFileName(), tensor, t.dtype(), n, t.numel());
            }
        } else {
            x = Numerics.normal(count, std, 42);
            what = String.format(Locale.ROOT, "%d random N(0, %s) values (seed 42)", count, std);
        }
        String formats = formats(x, what);
        String rope = rope(position);
        System.out.print(formats);
        System.out.println();
        System.out.print(rope);
        LineChart c = Numerics.ropeChart(Math.max(2 * position, 1024));
        out.writeChart(c, inputs);
        out.writeReport(new HtmlReport("jllm doctor numerics").pre(formats).pre(rope).chart(c), inputs);
        return 0;
    }

    static String formats(float[] x, String what) {
        StringBuilder sb = new StringBuilder("Number formats (error of rounding " + what + ")\n");
        sb.append(String.format(Locale.ROOT, "%-9s %4s %3s %3s %11s %11s %11s %10s %5s  %10s %10s  %10s %10s  %s%n", "format", "bits", "exp", "man", "max",
                "min_normal", "min_subnorm", "epsilon", "mult", "cast_rel", "cast_maxab", "scaled_rel", "scaled_max", "scaling / notes"));
        List<String> notes = new ArrayList<>();
        for (NumberFormat f : NumberFormat.all()) {
            Numerics.Error e = Numerics.error(f, x);
            if (f instanceof NumberFormat.Float fl) {
                sb.append(String.format(Locale.ROOT, "%-9s %4d %3d %3d %11.4e %11.4e %11.4e %10.3e %5d  %10s %10s  %10s %10s  %s%n", fl.name(), fl.bits(), fl.expBits(),
                        fl.manBits(), fl.max(), fl.minNormal(), fl.minSubnormal(), fl.epsilon(), fl.multiplierCost(), g(e.castRel()), g(e.castMaxAbs()),
                        g(e.scaledRel()), g(e.scaledMaxAbs()), e.scaling()));
            } else {
                sb.append(String.format(Locale.ROOT, "%-9s %4d %3s %3s %11s %11s %11s %10s %5s  %10s %10s  %10s %10s  %s%n", f.name(), f.bits(), "-", "-",
                        "absmax", "-", "-", f instanceof NumberFormat.Int8 ? "1/127" : "-", f instanceof NumberFormat.Int8 ? "49" : "n/a", "-", "-",
                        g(e.scaledRel()), g(e.scaledMaxAbs()), e.scaling()));
            }
            notes.add(f.name() + ": " + f.note());
        }
        sb.append("mult = exponent bits + mantissa bits^2 (a multiplier's area grows with the square of the mantissa); int8: 7 magnitude bits;\n")
                .append("nf4 is a lookup table: values are dequantized (to bf16) before any multiply. cast = plain rounding (overflow: Inf where the\n")
                .append("format has it, else saturation); scaled = the block scaling used in practice.\n");
        notes.forEach(n -> sb.append("  ").append(n).append('\n'));
        return sb.toString();
    }

    static String rope(int centre) {
        StringBuilder sb = new StringBuilder("RoPE positions held in low precision (angle = position x inv_freq; inv_freq = 1 rad for the fastest pair)\n");
        sb.append(String.format(Locale.ROOT, "%9s %10s %10s %16s %16s%n", "position", "as bf16", "as fp16", "bf16 angle err", "fp16 angle err"));
        for (Numerics.RopeRow r : Numerics.ropePositions(centre - 6, centre + 6))
            sb.append(String.format(Locale.ROOT, "%9d %10.0f %10.0f %12.0f rad %12.0f rad%n", r.position(), r.bf16(), r.fp16(), r.bf16AngleErr(), r.fp16AngleErr()));
        var groups = Numerics.bf16Collisions(centre - 40, centre + 40);
        sb.append("distinct positions that become the same bf16 value:\n");
        groups.forEach((v, ps) -> sb.append(String.format(Locale.ROOT, "  %s -> %.0f%n",
                ps.size() > 6 ? ps.getFirst() + ".." + ps.getLast() + " (" + ps.size() + " positions)" : ps.toString(), v)));
        double step = Math.ulp((float) centre) * 65536; // bf16 keeps 8 of fp32's 24 significant bits
        sb.append(String.format(Locale.ROOT, "bf16 spacing near %d: %.0f positions; the model cannot tell them apart, and the fastest rotation is off by up to %.0f rad.%n",
                centre, step, step / 2));
        sb.append("Compute positions and angles in fp32 (exact below 2^24), then cast cos/sin.\n");
        return sb.toString();
    }

    private static String g(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.3e", v);
    }
}
