package jllm.model;
