package jllm.tokenizer.decoder;

import jllm.tokenizer.pretokenizer.ByteLevel;

import java.nio.charset.StandardCharsets;
import java.util.List;

/** Maps byte-alphabet chars back to bytes and decodes them as lossy UTF-8; tokens outside the alphabet keep their UTF-8. */
public record ByteLevelDecoder() implements Decoder {
    @Override
    public List<String> decodeChain(List<String> tokens) {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        for (String t : tokens) {
            byte[] tb = new byte[t.length()];
            boolean ok = true;
            for (int i = 0; i < t.length(); i++) {
                char c = t.charAt(i);
                int b = c < ByteLevel.CHAR_TO_BYTE.length ? ByteLevel.CHAR_TO_BYTE[c] : -1;
                if (b < 0) { ok = false; break; }
                tb[i] = (byte) b;
            }
            bytes.writeBytes(ok ? tb : t.getBytes(StandardCharsets.UTF_8));
        }
        return List.of(new String(bytes.toByteArray(), StandardCharsets.UTF_8));
    }
}
