// Greedy decoding through llama.cpp's C API, ids in and ids out, so a test can compare llama.cpp's
// tokens with jllm's on the same GGUF without any text (and its UTF-8 checks) in between.
//   usage: greedy_ids MODEL.gguf N ID ID ... [-- F F ...]
// Prints N generated ids, space-separated: the argmax of the raw logits of the last position, lowest id
// on ties (jllm's greedy rule); no end-of-sequence stop. With "-- F F ..." (N of them) the model is fed
// those tokens instead of its own choices (teacher forcing) and each printed id is followed by
// ":GAP", the logit of its argmax minus the logit of the forced token (0 when they are the same).
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>
#include "llama.h"

static void quiet(enum ggml_log_level, const char *, void *) {}

int main(int argc, char ** argv) {
    if (argc < 4) { std::fprintf(stderr, "usage: %s MODEL.gguf N ID...\n", argv[0]); return 2; }
    llama_log_set(quiet, nullptr);
    llama_backend_init();
    llama_model_params mp = llama_model_default_params();
    llama_model * model = llama_model_load_from_file(argv[1], mp);
    if (!model) { std::fprintf(stderr, "cannot load %s\n", argv[1]); return 1; }
    int n = std::atoi(argv[2]);
    std::vector<llama_token> ids, forced;
    bool forcing = false;
    for (int i = 3; i < argc; i++) {
        if (std::string(argv[i]) == "--") { forcing = true; continue; }
        (forcing ? forced : ids).push_back((llama_token) std::atoi(argv[i]));
    }
    if (forcing && (int) forced.size() != n) { std::fprintf(stderr, "give N forced tokens after --\n"); return 2; }
    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = (uint32_t) (ids.size() + n + 8);
    cp.n_batch = cp.n_ctx;
    cp.n_threads = 2;
    cp.n_threads_batch = 2;
    llama_context * ctx = llama_init_from_model(model, cp);
    if (!ctx) { std::fprintf(stderr, "cannot make a context\n"); return 1; }
    int vocab = llama_vocab_n_tokens(llama_model_get_vocab(model));
    llama_batch batch = llama_batch_get_one(ids.data(), (int32_t) ids.size());
    llama_token next = 0;
    for (int k = 0; k < n; k++) {
        if (llama_decode(ctx, batch) != 0) { std::fprintf(stderr, "decode failed at %d\n", k); return 1; }
        const float * logits = llama_get_logits_ith(ctx, -1);
        next = 0;
        for (int v = 1; v < vocab; v++) if (logits[v] > logits[next]) next = v;
        std::printf(k == 0 ? "%d" : " %d", next);
        if (forcing) {
            std::printf(":%g", logits[next] - logits[forced[k]]);
            next = forced[k];
        }
        batch = llama_batch_get_one(&next, 1);
    }
    std::printf("\n");
    llama_free(ctx);
    llama_model_free(model);
    return 0;
}
