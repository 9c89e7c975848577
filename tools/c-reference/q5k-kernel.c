// Q5_KTensor.int8Block's loops in C with intrinsics (the same panel layout, lanes, broadcasts and
// 16-bit sums; endBlock left out, multipliers random): how fast the algorithm runs on this core when
// the compiler's code is lean, against jllm's `bench kernels --types q5_k --threads 1`.
// docs/quantization-and-speed.md, twenty-seventh round.
//   gcc -O2 -march=native -fopenmp -o /tmp/q5k q5k-kernel.c
//   OMP_NUM_THREADS=1 /tmp/q5k 1024 1     one [1024, 2048] matrix, in cache
//   OMP_NUM_THREADS=2 /tmp/q5k 8192 40    40 matrices of [8192, 2048] (472 MB), from memory
//   OMP_NUM_THREADS=1 /tmp/q5k 1024 1 16  the panels 16 bytes off a cache line (as a Java byte[]'s data)
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <stdint.h>
#include <string.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
#define P 32
#define RUN (10*P)
#define CHUNK (4*RUN+4*P)
#define SBB_BYTES (4*CHUNK+4*P)
// one block, one panel: mirrors Q5_KTensor.int8Block's inner loop (without endBlock)
static inline __m512 block(const uint8_t* pk, const int* y5, const int* sum8, const float* dx, const int* sum, __m512* uhi) {
  __m512 uLo=_mm512_setzero_ps(), uHi=uLo; __m128i n5=_mm_cvtsi32_si128(5);
  for (int j=0;j<8;j++) {
    const uint8_t* g = pk + CHUNK*(j>>1) + 2*RUN*(j&1);
#ifdef PF
    for (int c = 0; c < 720; c += 64) _mm_prefetch((const char*)g + PF + c, _MM_HINT_T0);  // -DPF=bytes ahead
#endif
    const int* x = y5 + 42*j;
    __m512i s=_mm512_set1_epi32(sum8[4*j]), r=_mm512_set1_epi32(sum8[4*j+2]);
    for (int k=0;k<5;k++) {
      __m512i l=_mm512_loadu_si512(g+2*k*P), h=_mm512_srl_epi16(l,n5), h2=_mm512_srl_epi16(h,n5);
      s=_mm512_add_epi16(s,_mm512_mullo_epi16(l,_mm512_set1_epi32(x[3*k])));
      s=_mm512_add_epi16(s,_mm512_mullo_epi16(h,_mm512_set1_epi32(x[3*k+1])));
      s=_mm512_add_epi16(s,_mm512_mullo_epi16(h2,_mm512_set1_epi32(x[3*k+2])));
      s=_mm512_add_epi16(s,_mm512_mullo_epi16(_mm512_srl_epi16(h2,n5),_mm512_set1_epi32(x[16+k])));
      l=_mm512_loadu_si512(g+2*k*P+RUN); h=_mm512_srl_epi16(l,n5); h2=_mm512_srl_epi16(h,n5);
      r=_mm512_add_epi16(r,_mm512_mullo_epi16(l,_mm512_set1_epi32(x[21+3*k])));
      r=_mm512_add_epi16(r,_mm512_mullo_epi16(h,_mm512_set1_epi32(x[21+3*k+1])));
      r=_mm512_add_epi16(r,_mm512_mullo_epi16(h2,_mm512_set1_epi32(x[21+3*k+2])));
      r=_mm512_add_epi16(r,_mm512_mullo_epi16(_mm512_srl_epi16(h2,n5),_mm512_set1_epi32(x[21+16+k])));
    }
    __m512i sx=_mm512_set1_epi32(16*sum[j]); __m512 d=_mm512_set1_ps(dx[j]);
    __m512i v=_mm512_loadu_si512(pk+CHUNK*(j>>1)+4*RUN+(j&1)*2*P);
    __m512i lo=_mm512_add_epi32(_mm512_add_epi32(_mm512_srai_epi32(_mm512_slli_epi32(s,16),16),_mm512_srai_epi32(_mm512_slli_epi32(r,16),16)),sx);
    __m512i hi=_mm512_add_epi32(_mm512_add_epi32(_mm512_srai_epi32(s,16),_mm512_srai_epi32(r,16)),sx);
    uLo=_mm512_fmadd_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(lo),d),_mm512_cvtepi32_ps(_mm512_and_si512(v,_mm512_set1_epi32(255))),uLo);
    uHi=_mm512_fmadd_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(hi),d),_mm512_cvtepi32_ps(_mm512_and_si512(_mm512_srli_epi32(v,16),_mm512_set1_epi32(255))),uHi);
  }
  *uhi=uHi; return uLo;
}
int main(int argc,char**argv){
  // streamed: MATS matrices of [rows, 2048], cycled, THREADS threads (OpenMP) splitting the panels
  if (argc < 3 || atoi(argv[1]) < P || atoi(argv[2]) < 1) { fprintf(stderr, "usage: %s ROWS(>= %d) MATS(>= 1) [BYTE_OFFSET]\n", argv[0], P); return 2; }
  int rows=atoi(argv[1]), mats=atoi(argv[2]), off=argc > 3 ? atoi(argv[3]) & 63 : 0, cols=2048, nb=cols/256, panels=rows/P;
  size_t bytes=(size_t)panels*nb*SBB_BYTES;
  uint8_t* pk=(uint8_t*)aligned_alloc(64,bytes*mats+64)+off; for(size_t i=0;i<bytes*mats;i+=4096) memset(pk+i,i/4096,4096);
  int* y5=malloc(sizeof(int)*nb*8*42); for(int i=0;i<nb*8*42;i++) y5[i]=rand()&0x7f007f;
  int sum8[4*8*8]; float dx[64]; int sum[64]; for(int i=0;i<256;i++) sum8[i]=rand()&255; for(int i=0;i<64;i++){dx[i]=0.01f;sum[i]=rand()&255;}
  double best=0; float chk=0;
  for(int rep=0;rep<5+2000/mats;rep++){
    double t0=now();
    for(int m=0;m<mats;m++){
      const uint8_t* base=pk+(size_t)m*bytes;
      #pragma omp parallel for schedule(static) reduction(+:chk)
      for(int p=0;p<panels;p++){ __m512 a=_mm512_setzero_ps(), b=a; float acc[P*2];
        for(int bl=0;bl<nb;bl++){ __m512 h; __m512 l=block(base+((size_t)p*nb+bl)*SBB_BYTES, y5+bl*8*42, sum8+bl*32, dx+bl*8, sum+bl*8, &h); a=_mm512_add_ps(a,l); b=_mm512_add_ps(b,h);}
        _mm512_storeu_ps(acc,a); _mm512_storeu_ps(acc+16,b); chk+=acc[3]; }
    }
    double t=now()-t0; double gw=(double)rows*cols*mats/t/1e9; if(gw>best)best=gw;
  }
  printf("rows %d x %d mats: best %.1f Gw/s = %.1f GB/s (%.0f MB) chk %g\n", rows, mats, best, best*SBB_BYTES/8192.0, bytes*mats/1e6, chk);
}
