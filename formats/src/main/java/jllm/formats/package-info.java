package jllm.formats;
