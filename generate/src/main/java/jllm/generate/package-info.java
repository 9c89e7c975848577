package jllm.generate;
