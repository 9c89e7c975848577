package jllm.doctor;
