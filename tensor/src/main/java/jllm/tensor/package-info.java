package jllm.tensor;
