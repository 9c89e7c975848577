# Runs ../shared/tools/torch_lora_bench.py with its step clock switched from wall time to this
# process's CPU time (every thread), so that its "step" is the CPU seconds a step costs and its
# "tok_s" is tokens per CPU-second: the figure `jllm bench train` prints on its "cpu" line. On a
# machine shared with other work, wall time measures the neighbours as much as the program; CPU
# time does not (spin-waiting threads still count, on both sides).
# Usage: python3 tools/torch_cpu_time.py ../shared/tools/torch_lora_bench.py small-270m 256 6 float32 2
import runpy
import sys
import time

time.time = time.process_time
script = sys.argv[1]
sys.argv = sys.argv[1:]
runpy.run_path(script, run_name="__main__")
