// Read bandwidth by the number of streams a thread reads at once: each of T threads reads its share
// of a buffer as S equal parts side by side, one 64-byte load from each part per step, summed with
// 32-bit adds (a decode kernel's four panels are four such streams). Asks whether the four-panel
// layout is what holds the decode kernels below the read probe on a machine (it was not on the Intel
// Xeon family 6 model 207: one stream read slowest). docs/quantization-and-speed.md, thirty-seventh round.
//   gcc -O2 -march=sapphirerapids -pthread -o /tmp/read-streams read-streams.c
//   /tmp/read-streams MIB THREADS ROUNDS      (MIB above the L3: 1024 on a 300 MB L3)
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static size_t total;
static char *buf;
static int streams, threads;
static volatile long sink;

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

static void *part(void *arg) {
    long id = (long) arg;
    size_t share = total / threads, each = share / streams;
    const char *b = buf + id * share;
    __m512i s = _mm512_setzero_si512();
    for (size_t o = 0; o + 64 <= each; o += 64)
        for (int k = 0; k < streams; k++) s = _mm512_add_epi32(s, _mm512_load_si512(b + k * each + o));
    sink += _mm512_reduce_add_epi32(s);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: %s MIB THREADS ROUNDS\n", argv[0]); return 2; }
    total = (size_t) atol(argv[1]) << 20;
    threads = atoi(argv[2]);
    int rounds = atoi(argv[3]);
    if (threads < 1 || threads > 64 || total < (size_t) threads * 16 * 64) { fprintf(stderr, "bad sizes\n"); return 2; }
    buf = aligned_alloc(1 << 21, total);
    if (!buf) { fprintf(stderr, "out of memory\n"); return 1; }
    memset(buf, 1, total);
    const int counts[] = {1, 2, 4, 8, 16};
    for (int r = 0; r < rounds; r++)
        for (int c = 0; c < 5; c++) {
            streams = counts[c];
            pthread_t th[64];
            double t0 = now();
            for (long i = 0; i < threads; i++) pthread_create(&th[i], NULL, part, (void *) i);
            for (int i = 0; i < threads; i++) pthread_join(th[i], NULL);
            printf("streams %2d: %5.1f GB/s\n", streams, total / (now() - t0) / 1e9);
        }
    return 0;
}
