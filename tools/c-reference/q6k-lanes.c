// Q6_KTensor.fours (the lane layout's int8 decode kernel, four panels of 32 rows) written in C with
// AVX-512 intrinsics, instruction for instruction as C2 compiles it (same loads, shifts by a vector of
// counts, 16-bit multiplies and adds, the per-block scratch of d sc_j dx), to tell how much of the Java
// kernel's time is its algorithm and how much C2's code. The weights are random bytes (their values do
// not change the instruction stream). docs/quantization-and-speed.md, thirty-sixth round.
//   gcc -O2 -march=sapphirerapids -pthread -o /tmp/q6k-lanes q6k-lanes.c
//   /tmp/q6k-lanes cache [scratch 0|1]    one thread, 32 panels x 2048 columns (1.7 MB, in L2), Gw/s
//   /tmp/q6k-lanes memory [scratch 0|1]   two threads, 327680 x 2048 (550 MB), GB/s against a read probe
// scratch 0 skips the per-block scratch (the output is then wrong; a timing of the rest).
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <immintrin.h>
#include <time.h>
#include <pthread.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
#define P 32
int SCR=1;
__attribute__((noinline)) void fours(const uint8_t* pk, long o0,long o1,long o2,long o3, const int* v, int nb, float* sc, float* acc) {
  __m512 lo0=_mm512_setzero_ps(),hi0=lo0,lo1=lo0,hi1=lo0,lo2=lo0,hi2=lo0,lo3=lo0,hi3=lo0;
  const __m512i c6=_mm512_set1_epi16(6), c2=_mm512_set1_epi16(2);
  for (int b=0;b<nb;b++){
    long blk=(long)b*210*P;
    if (SCR) for(int k=0;k<4;k++){ long ok=(k==0?o0:k==1?o1:k==2?o2:o3)+blk;
      __m512 dLo=_mm512_set1_ps(1.0f), dHi=dLo;
      for(int c=0;c<8;c++){ __m512 dx=_mm512_set1_ps(((float*)v)[45*(b*8+c)+44]);
        __m512i m=_mm512_loadu_si512(pk+ok+2*P*c); int so=(16*k+2*c)*P;
        _mm512_storeu_ps(sc+so, _mm512_mul_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_srai_epi32(_mm512_slli_epi32(m,24),24)),dx),dLo));
        _mm512_storeu_ps(sc+so+16, _mm512_mul_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_srai_epi32(_mm512_slli_epi32(m,8),24)),dx),dHi));
        _mm512_storeu_ps(sc+so+P, _mm512_mul_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_srai_epi32(_mm512_slli_epi32(m,16),24)),dx),dLo));
        _mm512_storeu_ps(sc+so+P+16, _mm512_mul_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_srai_epi32(m,24)),dx),dHi));
      }}
    const uint8_t* base[4]={pk+o0,pk+o1,pk+o2,pk+o3};
    for (int r=0;r<32;r++){
      int h=45*(b*8+(r>>2))+11*(r&3); long g=blk+18*P+6*P*r;
      __m512i s0=_mm512_set1_epi32(v[h+10]),s1=s0,s2=s0,s3=s0;
      for(int q=0;q<2;q++){
        long d=g+2*P*q; int m=h+3*q;
        __m512i m0=_mm512_set1_epi32(v[m]),m1=_mm512_set1_epi32(v[m+1]),m2=_mm512_set1_epi32(v[m+2]);
#define LANE(k,sv) { __m512i w=_mm512_loadu_si512(base[k]+d); __m512i u=_mm512_srlv_epi16(w,c6); \
          sv=_mm512_add_epi16(_mm512_add_epi16(_mm512_add_epi16(sv,_mm512_mullo_epi16(w,m0)),_mm512_mullo_epi16(u,m1)),_mm512_mullo_epi16(_mm512_srlv_epi16(u,c6),m2)); }
        LANE(0,s0) LANE(1,s1) LANE(2,s2) LANE(3,s3)
      }
      { long d=g+4*P; int m=h+6;
        __m512i m0=_mm512_set1_epi32(v[m]),m1=_mm512_set1_epi32(v[m+1]),m2=_mm512_set1_epi32(v[m+2]),m3=_mm512_set1_epi32(v[m+3]);
#define LANEC(k,sv) { __m512i w=_mm512_loadu_si512(base[k]+d); __m512i u=_mm512_srlv_epi16(w,c6); \
          sv=_mm512_add_epi16(_mm512_add_epi16(sv,_mm512_mullo_epi16(w,m0)),_mm512_mullo_epi16(u,m1)); u=_mm512_srlv_epi16(u,c6); \
          sv=_mm512_add_epi16(_mm512_add_epi16(sv,_mm512_mullo_epi16(u,m2)),_mm512_mullo_epi16(_mm512_srlv_epi16(u,c2),m3)); }
        LANEC(0,s0) LANEC(1,s1) LANEC(2,s2) LANEC(3,s3)
      }
      int so=(r>>1)*P;
#define EPI(sv,lo,hi,k) lo=_mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_srai_epi32(_mm512_slli_epi32(sv,16),16)),_mm512_loadu_ps(sc+so+16*P*k),lo); \
                        hi=_mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_srai_epi32(sv,16)),_mm512_loadu_ps(sc+so+16*P*k+16),hi);
      EPI(s0,lo0,hi0,0) EPI(s1,lo1,hi1,1) EPI(s2,lo2,hi2,2) EPI(s3,lo3,hi3,3)
    }
  }
  _mm512_storeu_ps(acc,lo0);_mm512_storeu_ps(acc+16,hi0);_mm512_storeu_ps(acc+32,lo1);_mm512_storeu_ps(acc+48,hi1);
  _mm512_storeu_ps(acc+64,lo2);_mm512_storeu_ps(acc+80,hi2);_mm512_storeu_ps(acc+96,lo3);_mm512_storeu_ps(acc+112,hi3);
}
static uint8_t* pk; static int* v; static int nb=8, panels; static long pb; static volatile double sink;
static int mode; // 0 kernel, 1 read probe, 2 kernel on the first 32 panels only (in cache)
void* work(void* arg){ long id=(long)arg; int half=panels/2; int p0=id*half, p1=p0+half;
  float* sc=aligned_alloc(64,64*P*4); float acc[4*P]={0};
  if(mode==2) for(int rep=0;rep<200;rep++) for(int p=0;p<32;p+=4) fours(pk,p*pb,(p+1)*pb,(p+2)*pb,(p+3)*pb,v,nb,sc,acc);
  else if(mode==0) for(int p=p0;p<p1;p+=4) fours(pk,p*pb,(p+1)*pb,(p+2)*pb,(p+3)*pb,v,nb,sc,acc);
  else { __m512i s=_mm512_setzero_si512(); const uint8_t* a=pk+(long)p0*pb; long n=(long)half*pb; for(long i=0;i<n;i+=256){ s=_mm512_add_epi32(s,_mm512_loadu_si512(a+i)); s=_mm512_add_epi32(s,_mm512_loadu_si512(a+i+64)); s=_mm512_add_epi32(s,_mm512_loadu_si512(a+i+128)); s=_mm512_add_epi32(s,_mm512_loadu_si512(a+i+192)); } acc[0]=_mm512_reduce_add_epi32(s); }
  sink+=acc[0]; return 0; }
double run(int m){ mode=m; pthread_t t[2]; double t0=now(); for(long i=0;i<2;i++) pthread_create(&t[i],0,work,(void*)i); for(int i=0;i<2;i++) pthread_join(t[i],0); return now()-t0; }
int main(int argc,char**argv){
  int cache=argc>1 && argv[1][0]=='c'; SCR=argc>2?atoi(argv[2]):1;
  pb=(long)nb*210*P; panels=10240; long bytes=pb*panels;  // 550 MB: more than the L3 (300 MB on the Xeon of the thirty-sixth round)
  pk=aligned_alloc(64,bytes+256); v=calloc(45*nb*8+64,4);
  uint64_t x=88172645463325252ULL; for(long i=0;i<bytes+256;i+=8){ x^=x<<13; x^=x>>7; x^=x<<17; memcpy(pk+i,&x,8); }
  for(int it=0;it<12;it++){
    if(cache){ mode=2; double t0=now(); work(0); double t=now()-t0; printf("scratch %d in cache, one thread: %.1f Gw/s\n", SCR, 200.0*32*P*256*nb/t/1e9); }
    else { double tk=run(0), tp=run(1); printf("scratch %d from memory, two threads: kernel %.1f GB/s, read probe %.1f GB/s, %.0f%%\n", SCR, bytes/tk/1e9, bytes/tp/1e9, 100*tp/tk); }
  }
}
