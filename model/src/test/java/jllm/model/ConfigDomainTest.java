package jllm.model;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jllm.formats.FormatException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Config values outside their domain (an epsilon of 0, a negative RoPE base, a scaling factor of 0,
 * 1e999) would make NaN or infinite activations; they are refused when the config is read, naming
 * the key, like an implausible size.
 */
class ConfigDomainTest {
    private static final String BASE = """
            {"model_type": "%s", "vocab_size": 64, "hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 4,
             "num_key_value_heads": 2, "intermediate_size": 64, "max_position_embeddings": 128 %s}""";

    static Spec spec(String type, String extra) {
        Config c = Config.of(BASE.formatted(type, extra.isEmpty() ? "" : ", " + extra));
        return Architectures.forConfig(c).spec(c);
    }

    static String refused(String type, String extra) {
        return assertThrows(FormatException.class, () -> spec(type, extra)).getMessage();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "llama | \"rms_norm_eps\": 0 | rms_norm_eps",
            "llama | \"rms_norm_eps\": -1e-6 | rms_norm_eps",
            "llama | \"rms_norm_eps\": 1e300 | rms_norm_eps",
            "llama | \"rms_norm_eps\": 1e-60 | rms_norm_eps",
            "llama | \"rms_norm_eps\": \"tiny\" | rms_norm_eps",
            "llama | \"rope_theta\": 0 | rope_theta",
            "llama | \"rope_theta\": -10000 | rope_theta",
            "llama | \"rope_theta\": \"big\" | rope_theta",
            "llama | \"rope_parameters\": {\"rope_theta\": -1} | rope_theta",
            "llama | \"rope_scaling\": {\"rope_type\": \"linear\", \"factor\": 0} | factor",
            "llama | \"rope_scaling\": {\"rope_type\": \"linear\", \"factor\": -2} | factor",
            "llama | \"rope_scaling\": {\"rope_type\": \"dynamic\", \"factor\": 0} | factor",
            "llama | \"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 0} | factor",
            "llama | \"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 4, \"attention_factor\": -1} | attention_factor",
            "llama | \"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 4, \"beta_fast\": -32} | beta_fast",
            "llama | \"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 0, \"low_freq_factor\": 1, \"high_freq_factor\": 4, \"original_max_position_embeddings\": 64} | factor",
            "llama | \"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8, \"low_freq_factor\": 4, \"high_freq_factor\": 4, \"original_max_position_embeddings\": 64} | high_freq_factor",
            "llama | \"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8, \"low_freq_factor\": 1, \"high_freq_factor\": 4, \"original_max_position_embeddings\": 0} | original_max_position_embeddings",
            "llama | \"partial_rotary_factor\": 0 | partial_rotary_factor",
            "llama | \"rope_scaling\": {\"rope_type\": \"longrope\", \"short_factor\": [1, 1, 1, 1], \"long_factor\": [1, 0, 1, 1], \"original_max_position_embeddings\": 64} | long_factor",
            "nemotron | \"norm_eps\": 0 | norm_eps",
            "gemma2 | \"query_pre_attn_scalar\": 0 | query_pre_attn_scalar",
            "gemma2 | \"attn_logit_softcapping\": 1e300 | attn_logit_softcapping",
            "granite | \"logits_scaling\": 0 | logits_scaling",
    })
    void outOfDomainValuesAreRefusedNamingTheKey(String type, String extra, String key) {
        String m = refused(type.strip(), extra.strip());
        assertTrue(m.contains(key.strip()) && m.startsWith("<config>"), m);
    }

    @Test
    void inDomainValuesStillLoad() {
        assertDoesNotThrow(() -> spec("llama", "\"rms_norm_eps\": 1e-6, \"rope_theta\": 500000"));
        assertDoesNotThrow(() -> spec("llama", "\"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 4, \"beta_fast\": 0}"));
        assertDoesNotThrow(() -> spec("gemma2", "\"attn_logit_softcapping\": null, \"final_logit_softcapping\": 30.0"));
        assertDoesNotThrow(() -> spec("granite", "\"embedding_multiplier\": 12.0, \"logits_scaling\": 8.0, \"residual_multiplier\": 0.22"));
    }
}
