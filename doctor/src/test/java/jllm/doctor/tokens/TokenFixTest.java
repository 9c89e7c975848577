package jllm.doctor.tokens;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import jllm.doctor.ModelFiles;
import jllm.doctor.TestModels;
import jllm.model.gguf.GgufConverter;
import jllm.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `doctor tokens --fix` repairs exactly the untrained rows, in the model's own format, and nothing else. */
class TokenFixTest {
    @TempDir
    Path tmp;

    private static final int[] DEAD = {30500, 31000, 31999};

    private Path broken() throws Exception {
        return TestModels.release(tmp.resolve("broken"), r -> {
            for (String w : List.of("model.embed_tokens.weight", "lm_head.weight")) for (int id : DEAD) r.fillRow(w, id, 0f);
            r.fillRow("model.embed_tokens.weight", 2, 0f); // eos, untrained too: left alone by default
            r.fillRow("lm_head.weight", 2, 0f);
        });
    }

    @Test
    void hfCopyHasTheRowsSetToTheMeanOfTrainedRowsAndEverythingElseIdentical() throws Exception {
        Path in = broken(), out = tmp.resolve("fixed");
        try (ModelFiles m = ModelFiles.open(in)) {
            TokenAudit.Report r = TokenAudit.run(m);
            assertArrayEquals(DEAD, r.flagged().stream().mapToInt(TokenAudit.Entry::id).toArray());
            assertEquals(List.of(2), r.roles().stream().map(TokenAudit.Entry::id).toList());
            var patches = TokenAudit.patches(m, r, false);
            TokenFix.write(m, patches, out, false);
            Set<Integer> untrained = Set.of(2, 30500, 31000, 31999);
            float[] wantEmbed = UntrainedTokens.meanOfOtherRows(m.store.tensor("model.embed_tokens.weight"), untrained);
            float[] wantHead = UntrainedTokens.meanOfOtherRows(m.store.tensor("lm_head.weight"), untrained);
            try (ModelFiles f = ModelFiles.open(out)) {
                TokenAudit.Report after = TokenAudit.run(f);
                assertTrue(after.flagged().isEmpty(), after.flagged().toString());
                assertEquals(List.of(2), after.roles().stream().map(TokenAudit.Entry::id).toList(), "eos was not asked for");
                Tensor e = f.store.tensor("model.embed_tokens.weight"), h = f.store.tensor("lm_head.weight");
                for (int id : DEAD) {
                    assertArrayEquals(wantEmbed, e.row(id));
                    assertArrayEquals(wantHead, h.row(id));
                }
                Tensor e0 = m.store.tensor("model.embed_tokens.weight");
                for (int id : new int[] {0, 1, 3, 100, 30499, 30501}) assertArrayEquals(e0.row(id), e.row(id));
                for (String name : m.store.names())
                    if (!name.contains("embed") && !name.contains("lm_head"))
                        assertArrayEquals(m.store.tensor(name).toFloatArray(), f.store.tensor(name).toFloatArray(), name);
            }
        }
        for (String side : List.of("config.json", "tokenizer.json", "tokenizer_config.json", "generation_config.json"))
            assertArrayEquals(Files.readAllBytes(in.resolve(side)), Files.readAllBytes(out.resolve(side)), side);
        assertEquals(Files.size(in.resolve("model.safetensors")), Files.size(out.resolve("model.safetensors")));
    }

    @Test
    void includeSpecialAlsoRepairsEos() throws Exception {
        Path in = broken(), out = tmp.resolve("fixed-all");
        try (ModelFiles m = ModelFiles.open(in)) {
            TokenFix.write(m, TokenAudit.patches(m, TokenAudit.run(m), true), out, false);
        }
        try (ModelFiles f = ModelFiles.open(out)) {
            assertTrue(TokenAudit.run(f).all().isEmpty());
        }
    }

    @Test
    void ggufCopiesAreFixedInTheirOwnQuantType() throws Exception {
        Path in = broken();
        for (var type : List.of(GgufConverter.FileType.F16, GgufConverter.FileType.Q8_0)) {
            Path gguf = tmp.resolve("m-" + type + ".gguf"), fixed = tmp.resolve("m-" + type + "-fixed.gguf");
            GgufConverter.convert(in, gguf, type, w -> { }, s -> { });
            try (ModelFiles m = ModelFiles.open(gguf)) {
                TokenAudit.Report r = TokenAudit.run(m);
                assertArrayEquals(DEAD, r.flagged().stream().mapToInt(TokenAudit.Entry::id).toArray(), type.toString());
                TokenFix.write(m, TokenAudit.patches(m, r, false), fixed, false);
            }
            assertEquals(Files.size(gguf), Files.size(fixed));
            try (ModelFiles f = ModelFiles.open(fixed)) {
                assertTrue(TokenAudit.run(f).flagged().isEmpty(), type.toString());
                // the fixed rows hold the trained rows' mean, to the type's precision
                float[] row = f.store.tensor("token_embd.weight").row(31000), other = f.store.tensor("token_embd.weight").row(30500);
                assertArrayEquals(row, other);
                double norm = 0;
                for (float x : row) norm += x * x;
                assertTrue(norm > 0 && norm < 64 * 0.01, "mean row norm^2 " + norm);
            }
            assertThrows(jllm.formats.FormatException.class, () -> {
                try (ModelFiles m = ModelFiles.open(gguf)) {
                    TokenFix.write(m, TokenAudit.patches(m, TokenAudit.run(m), false), fixed, false); // exists, no overwrite
                }
            });
        }
    }
}
