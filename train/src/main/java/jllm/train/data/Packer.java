package jllm.train.data;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * Packs short examples into rows of at most {@code maxSeq} tokens, best fit: each example goes into
 * the open row with the least room that still holds it (a new row when none does). Examples keep the
 * order they arrive in within a row. Deterministic: the same examples in the same order give the same
 * rows. O(n log n).
 */
public final class Packer {
    private Packer() { }

    public static List<PackedRow> pack(List<ExampleEncoder.Encoded> examples, int maxSeq, boolean pack) {
        List<List<ExampleEncoder.Encoded>> rows = new ArrayList<>();
        List<Integer> used = new ArrayList<>();
        TreeMap<Integer, ArrayDeque<Integer>> byRoom = new TreeMap<>();
        for (ExampleEncoder.Encoded e : examples) {
            int len = e.length();
            if (len > maxSeq) throw new IllegalArgumentException("example of " + len + " tokens is longer than " + maxSeq);
            int row = -1;
            if (pack) {
                var fit = byRoom.ceilingEntry(len);
                if (fit != null) {
                    row = fit.getValue().pollFirst();
                    if (fit.getValue().isEmpty()) byRoom.remove(fit.getKey());
                }
            }
            if (row < 0) {
                row = rows.size();
                rows.add(new ArrayList<>());
                used.add(0);
            }
            rows.get(row).add(e);
            used.set(row, used.get(row) + len);
            int room = maxSeq - used.get(row);
            if (pack && room > 0) byRoom.computeIfAbsent(room, k -> new ArrayDeque<>()).addLast(row);
        }
        List<PackedRow> out = new ArrayList<>(rows.size());
        for (int r = 0; r < rows.size(); r++) out.add(build(rows.get(r), used.get(r)));
        return out;
    }

    private static PackedRow build(List<ExampleEncoder.Encoded> parts, int n) {
        int[] tokens = new int[n], labels = new int[n], positions = new int[n], segments = new int[n], starts = new int[parts.size()];
        int at = 0;
        for (int s = 0; s < parts.size(); s++) {
            ExampleEncoder.Encoded e = parts.get(s);
            starts[s] = at;
            System.arraycopy(e.ids(), 0, tokens, at, e.length());
            System.arraycopy(e.labels(), 0, labels, at, e.length());
            for (int i = 0; i < e.length(); i++) {
                positions[at + i] = i;
                segments[at + i] = s;
            }
            at += e.length();
        }
        return new PackedRow(tokens, labels, positions, segments, starts);
    }
}
