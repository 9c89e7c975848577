package jllm.template;
