# Runs ../shared/tools/torch_lora_bench.py with its step clock switched from wall time to this
# process's CPU time (every thread), so that its "step" is the CPU seconds a step costs and its
# "tok_s" is tokens per CPU-second: the figure `jllm bench train` prints on its "cpu" line. On a
# machine shared with other work, wall time measures the neighbours as much as the program; CPU
# time less so (spin-waiting threads still count, on both sides). The wall time of each step is
# printed after the script's own line.
# Usage: python3 tools/torch_cpu_time.py ../shared/tools/torch_lora_bench.py small-270m 256 6 float32 2
import atexit
import runpy
import sys
import time

_wall = time.time
_marks = []


def _clock():
    # the script reads the clock twice per step, before and after (torch itself may read it too: not counted)
    if sys._getframe(1).f_code.co_filename == script:
        _marks.append(_wall())
    return time.process_time()


def _report():
    steps = [_marks[i + 1] - _marks[i] for i in range(0, len(_marks) - 1, 2)]
    if len(steps) > 1:
        rest = sorted(steps[1:])
        print(f"wall per step (s): {' '.join(f'{s:.3f}' for s in steps)}; best after the first {rest[0]:.3f}, median {rest[len(rest) // 2]:.3f}")


time.time = _clock
atexit.register(_report)
script = sys.argv[1]
sys.argv = sys.argv[1:]
runpy.run_path(script, run_name="__main__")
