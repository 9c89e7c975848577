package jllm.train.data;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** One turn of a conversation, roles normalised to system / user / assistant. */
public record Message(String role, String content) {
    public static final String SYSTEM = "system", USER = "user", ASSISTANT = "assistant";

    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("role", role);
        m.put("content", content);
        return m;
    }

    /** The conversation as the plain maps a chat template renders. */
    public static List<Map<String, Object>> maps(List<Message> messages) {
        List<Map<String, Object>> out = new ArrayList<>(messages.size());
        for (Message m : messages) out.add(m.toMap());
        return out;
    }
}
