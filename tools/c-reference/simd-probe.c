// Latency and throughput of the AVX-512 instructions the int8 decode kernels use, on the machine at
// hand (no perf counters in the VMs): eight independent (or chained) instructions per iteration.
// A chain of scalar adds gives the clock. docs/quantization-and-speed.md, twenty-seventh round.
//   gcc -O2 -mavx512bw -mavx512vnni -o /tmp/simd-probe simd-probe.c && /tmp/simd-probe
#include <stdio.h>
#include <time.h>
#include <stdint.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
#define N 100000000L
// each test: 8 independent chains, 8 instrs per iteration
#define T(name, body) { double t0=now(); for(long i=0;i<N;i++){ __asm__ volatile(body :: "r"(mem) : "xmm0","xmm1","xmm2","xmm3","xmm4","xmm5","xmm6","xmm7","xmm8","xmm9","xmm16","rax","memory"); } double t=now()-t0; printf("%-28s %.3f ns/iter  %.2f instr/ns\n", name, t/N*1e9, 8*N/t/1e9); }
int main(){
  static int32_t mem[64] __attribute__((aligned(64)));
  __asm__ volatile("vpxord %%zmm0,%%zmm0,%%zmm0; vpxord %%zmm9,%%zmm9,%%zmm9; vpxord %%xmm16,%%xmm16,%%xmm16":::"xmm0","xmm9","xmm16");
  T("add chain x1 (latency)", "vpaddw %%zmm9,%%zmm0,%%zmm0;vpaddw %%zmm9,%%zmm0,%%zmm0;vpaddw %%zmm9,%%zmm0,%%zmm0;vpaddw %%zmm9,%%zmm0,%%zmm0;vpaddw %%zmm9,%%zmm0,%%zmm0;vpaddw %%zmm9,%%zmm0,%%zmm0;vpaddw %%zmm9,%%zmm0,%%zmm0;vpaddw %%zmm9,%%zmm0,%%zmm0");
  T("vpaddw zmm x8 indep", "vpaddw %%zmm9,%%zmm0,%%zmm0;vpaddw %%zmm9,%%zmm1,%%zmm1;vpaddw %%zmm9,%%zmm2,%%zmm2;vpaddw %%zmm9,%%zmm3,%%zmm3;vpaddw %%zmm9,%%zmm4,%%zmm4;vpaddw %%zmm9,%%zmm5,%%zmm5;vpaddw %%zmm9,%%zmm6,%%zmm6;vpaddw %%zmm9,%%zmm7,%%zmm7");
  T("vpmullw zmm x8 indep", "vpmullw %%zmm9,%%zmm0,%%zmm0;vpmullw %%zmm9,%%zmm1,%%zmm1;vpmullw %%zmm9,%%zmm2,%%zmm2;vpmullw %%zmm9,%%zmm3,%%zmm3;vpmullw %%zmm9,%%zmm4,%%zmm4;vpmullw %%zmm9,%%zmm5,%%zmm5;vpmullw %%zmm9,%%zmm6,%%zmm6;vpmullw %%zmm9,%%zmm7,%%zmm7");
  T("vpsrlw zmm,xmm x8", "vpsrlw %%xmm16,%%zmm9,%%zmm0;vpsrlw %%xmm16,%%zmm9,%%zmm1;vpsrlw %%xmm16,%%zmm9,%%zmm2;vpsrlw %%xmm16,%%zmm9,%%zmm3;vpsrlw %%xmm16,%%zmm9,%%zmm4;vpsrlw %%xmm16,%%zmm9,%%zmm5;vpsrlw %%xmm16,%%zmm9,%%zmm6;vpsrlw %%xmm16,%%zmm9,%%zmm7");
  T("vpsrlw zmm,imm x8", "vpsrlw $5,%%zmm9,%%zmm0;vpsrlw $5,%%zmm9,%%zmm1;vpsrlw $5,%%zmm9,%%zmm2;vpsrlw $5,%%zmm9,%%zmm3;vpsrlw $5,%%zmm9,%%zmm4;vpsrlw $5,%%zmm9,%%zmm5;vpsrlw $5,%%zmm9,%%zmm6;vpsrlw $5,%%zmm9,%%zmm7");
  T("vpbroadcastd zmm,m32 x8", "vpbroadcastd (%0),%%zmm0;vpbroadcastd 4(%0),%%zmm1;vpbroadcastd 8(%0),%%zmm2;vpbroadcastd 12(%0),%%zmm3;vpbroadcastd 16(%0),%%zmm4;vpbroadcastd 20(%0),%%zmm5;vpbroadcastd 24(%0),%%zmm6;vpbroadcastd 28(%0),%%zmm7" );
  T("vpmaddwd zmm x8", "vpmaddwd %%zmm9,%%zmm0,%%zmm0;vpmaddwd %%zmm9,%%zmm1,%%zmm1;vpmaddwd %%zmm9,%%zmm2,%%zmm2;vpmaddwd %%zmm9,%%zmm3,%%zmm3;vpmaddwd %%zmm9,%%zmm4,%%zmm4;vpmaddwd %%zmm9,%%zmm5,%%zmm5;vpmaddwd %%zmm9,%%zmm6,%%zmm6;vpmaddwd %%zmm9,%%zmm7,%%zmm7");
  T("vpdpbusd zmm x8", "vpdpbusd %%zmm9,%%zmm8,%%zmm0;vpdpbusd %%zmm9,%%zmm8,%%zmm1;vpdpbusd %%zmm9,%%zmm8,%%zmm2;vpdpbusd %%zmm9,%%zmm8,%%zmm3;vpdpbusd %%zmm9,%%zmm8,%%zmm4;vpdpbusd %%zmm9,%%zmm8,%%zmm5;vpdpbusd %%zmm9,%%zmm8,%%zmm6;vpdpbusd %%zmm9,%%zmm8,%%zmm7");
  T("mix mul+add+srl (2:2:2+2bc)", "vpmullw %%zmm9,%%zmm0,%%zmm0;vpaddw %%zmm9,%%zmm1,%%zmm1;vpsrlw %%xmm16,%%zmm9,%%zmm2;vpmullw %%zmm9,%%zmm3,%%zmm3;vpaddw %%zmm9,%%zmm4,%%zmm4;vpsrlw %%xmm16,%%zmm9,%%zmm5;vpbroadcastd (%0),%%zmm6;vpbroadcastd 4(%0),%%zmm7");
  T("vfmadd231ps x8", "vfmadd231ps %%zmm9,%%zmm8,%%zmm0;vfmadd231ps %%zmm9,%%zmm8,%%zmm1;vfmadd231ps %%zmm9,%%zmm8,%%zmm2;vfmadd231ps %%zmm9,%%zmm8,%%zmm3;vfmadd231ps %%zmm9,%%zmm8,%%zmm4;vfmadd231ps %%zmm9,%%zmm8,%%zmm5;vfmadd231ps %%zmm9,%%zmm8,%%zmm6;vfmadd231ps %%zmm9,%%zmm8,%%zmm7");

  T("mul4 srl4", "vpmullw %%zmm9,%%zmm0,%%zmm0;vpsrlw %%xmm16,%%zmm9,%%zmm1;vpmullw %%zmm9,%%zmm2,%%zmm2;vpsrlw %%xmm16,%%zmm9,%%zmm3;vpmullw %%zmm9,%%zmm4,%%zmm4;vpsrlw %%xmm16,%%zmm9,%%zmm5;vpmullw %%zmm9,%%zmm6,%%zmm6;vpsrlw %%xmm16,%%zmm9,%%zmm7");
  T("mul4 add4", "vpmullw %%zmm9,%%zmm0,%%zmm0;vpaddw %%zmm9,%%zmm1,%%zmm1;vpmullw %%zmm9,%%zmm2,%%zmm2;vpaddw %%zmm9,%%zmm3,%%zmm3;vpmullw %%zmm9,%%zmm4,%%zmm4;vpaddw %%zmm9,%%zmm5,%%zmm5;vpmullw %%zmm9,%%zmm6,%%zmm6;vpaddw %%zmm9,%%zmm7,%%zmm7");
  T("srl4 add4", "vpsrlw %%xmm16,%%zmm9,%%zmm0;vpaddw %%zmm9,%%zmm1,%%zmm1;vpsrlw %%xmm16,%%zmm9,%%zmm2;vpaddw %%zmm9,%%zmm3,%%zmm3;vpsrlw %%xmm16,%%zmm9,%%zmm4;vpaddw %%zmm9,%%zmm5,%%zmm5;vpsrlw %%xmm16,%%zmm9,%%zmm6;vpaddw %%zmm9,%%zmm7,%%zmm7");
  T("mul chain x1 (latency)", "vpmullw %%zmm9,%%zmm0,%%zmm0;vpmullw %%zmm9,%%zmm0,%%zmm0;vpmullw %%zmm9,%%zmm0,%%zmm0;vpmullw %%zmm9,%%zmm0,%%zmm0;vpmullw %%zmm9,%%zmm0,%%zmm0;vpmullw %%zmm9,%%zmm0,%%zmm0;vpmullw %%zmm9,%%zmm0,%%zmm0;vpmullw %%zmm9,%%zmm0,%%zmm0");
  T("fma chain x1 (latency)", "vfmadd231ps %%zmm9,%%zmm8,%%zmm0;vfmadd231ps %%zmm9,%%zmm8,%%zmm0;vfmadd231ps %%zmm9,%%zmm8,%%zmm0;vfmadd231ps %%zmm9,%%zmm8,%%zmm0;vfmadd231ps %%zmm9,%%zmm8,%%zmm0;vfmadd231ps %%zmm9,%%zmm8,%%zmm0;vfmadd231ps %%zmm9,%%zmm8,%%zmm0;vfmadd231ps %%zmm9,%%zmm8,%%zmm0");
  T("add chain ymm (latency)", "vpaddw %%ymm9,%%ymm0,%%ymm0;vpaddw %%ymm9,%%ymm0,%%ymm0;vpaddw %%ymm9,%%ymm0,%%ymm0;vpaddw %%ymm9,%%ymm0,%%ymm0;vpaddw %%ymm9,%%ymm0,%%ymm0;vpaddw %%ymm9,%%ymm0,%%ymm0;vpaddw %%ymm9,%%ymm0,%%ymm0;vpaddw %%ymm9,%%ymm0,%%ymm0");
  T("scalar add chain (latency)", "add %%rax,%%rax;add %%rax,%%rax;add %%rax,%%rax;add %%rax,%%rax;add %%rax,%%rax;add %%rax,%%rax;add %%rax,%%rax;add %%rax,%%rax");

  // thirty-sixth round (Intel Xeon, family 6 model 207): which port each runs on at 512 bits
  T("vpsrlvw zmm x8", "vpsrlvw %%zmm9,%%zmm8,%%zmm0;vpsrlvw %%zmm9,%%zmm8,%%zmm1;vpsrlvw %%zmm9,%%zmm8,%%zmm2;vpsrlvw %%zmm9,%%zmm8,%%zmm3;vpsrlvw %%zmm9,%%zmm8,%%zmm4;vpsrlvw %%zmm9,%%zmm8,%%zmm5;vpsrlvw %%zmm9,%%zmm8,%%zmm6;vpsrlvw %%zmm9,%%zmm8,%%zmm7");
  T("vpsrad zmm,imm x8", "vpsrad $3,%%zmm9,%%zmm0;vpsrad $3,%%zmm9,%%zmm1;vpsrad $3,%%zmm9,%%zmm2;vpsrad $3,%%zmm9,%%zmm3;vpsrad $3,%%zmm9,%%zmm4;vpsrad $3,%%zmm9,%%zmm5;vpsrad $3,%%zmm9,%%zmm6;vpsrad $3,%%zmm9,%%zmm7");
  T("vpmovsxbd zmm,m128 x8", "vpmovsxbd (%0),%%zmm0;vpmovsxbd (%0),%%zmm1;vpmovsxbd (%0),%%zmm2;vpmovsxbd (%0),%%zmm3;vpmovsxbd (%0),%%zmm4;vpmovsxbd (%0),%%zmm5;vpmovsxbd (%0),%%zmm6;vpmovsxbd (%0),%%zmm7");
  T("vcvtdq2ps zmm x8", "vcvtdq2ps %%zmm9,%%zmm0;vcvtdq2ps %%zmm9,%%zmm1;vcvtdq2ps %%zmm9,%%zmm2;vcvtdq2ps %%zmm9,%%zmm3;vcvtdq2ps %%zmm9,%%zmm4;vcvtdq2ps %%zmm9,%%zmm5;vcvtdq2ps %%zmm9,%%zmm6;vcvtdq2ps %%zmm9,%%zmm7");
  T("srlvw4 cvt4 (p0 + p05)", "vpsrlvw %%zmm9,%%zmm8,%%zmm0;vcvtdq2ps %%zmm9,%%zmm1;vpsrlvw %%zmm9,%%zmm8,%%zmm2;vcvtdq2ps %%zmm9,%%zmm3;vpsrlvw %%zmm9,%%zmm8,%%zmm4;vcvtdq2ps %%zmm9,%%zmm5;vpsrlvw %%zmm9,%%zmm8,%%zmm6;vcvtdq2ps %%zmm9,%%zmm7");
  T("srlvw4 srad4 (both p0?)", "vpsrlvw %%zmm9,%%zmm8,%%zmm0;vpsrad $3,%%zmm9,%%zmm1;vpsrlvw %%zmm9,%%zmm8,%%zmm2;vpsrad $3,%%zmm9,%%zmm3;vpsrlvw %%zmm9,%%zmm8,%%zmm4;vpsrad $3,%%zmm9,%%zmm5;vpsrlvw %%zmm9,%%zmm8,%%zmm6;vpsrad $3,%%zmm9,%%zmm7");
  T("srlvw4 sxbd4 (p0 + p5?)", "vpsrlvw %%zmm9,%%zmm8,%%zmm0;vpmovsxbd (%0),%%zmm1;vpsrlvw %%zmm9,%%zmm8,%%zmm2;vpmovsxbd (%0),%%zmm3;vpsrlvw %%zmm9,%%zmm8,%%zmm4;vpmovsxbd (%0),%%zmm5;vpsrlvw %%zmm9,%%zmm8,%%zmm6;vpmovsxbd (%0),%%zmm7");
  return 0;
}
