#!/usr/bin/env python3
"""Which C2 compiles left Vector API operations as calls to their Java fallbacks.

Run a command with
  JLLM_JAVA_OPTS="-XX:+UnlockDiagnosticVMOptions -XX:+LogCompilation -XX:LogFile=c2.log"
then `tools/c2-vector-fallbacks.py c2.log [method-substring]`. For every C2 compile of a matching
method (default: jllm.tensor) it prints the Vector API intrinsics C2 applied and the VectorSupport
calls whose late inlining failed: each of those runs the Java fallback (a loop over lanes that
allocates) wherever that code is reached. A kernel with any such call can run 5-20x slower for the
whole process, and whether it happens can depend on the compile (docs/quantization-and-speed.md,
thirtieth round: F16's guarded decode).

Each compile also lists its Vector API calls that C2 resolved through a type profile with two or
more receivers ("polymorphic Vector API calls"): a profile that kernels of other shapes or lane types
share (AbstractVector.reinterpretAsX's asVectorRaw, ShortVector.intoArray's vspecies), the cause of
most fallbacks seen so far (docs/quantization-and-speed.md, thirty-first round). Such calls without
fallbacks are harmless; their count tells where the next compile may go wrong. It also counts the
type guards whose miss path C2 made a virtual call instead of a trap, because the compile's summed
trap or recompilation counts passed PerMethodTrapLimit or PerMethodRecompilationCutoff / 2 (the
launcher raises both; thirty-second round): past such a guard the species is no longer a constant.

On-stack-replacement (osr) compiles are listed but do not fail the check: such code runs only the
rest of the call whose loop asked for it (later calls enter the standard compile). Their fallbacks
are the more frequent kind at 128 and 256 bits (with -XX:+PrintIntrinsics on the method, C2 logs
"unbox failed" for vectors carried into the loop from the interpreter's frame) and cost one call.
"""
import re
import sys
from collections import Counter


def main(path, pattern):
    s = open(path, errors='replace').read()
    bad = 0
    for m in re.finditer(r"<task compile_id='(\d+)'([^>]*)>", s):
        head = m.group(2)
        if "level='" in head:  # C1 compiles carry a level; C2's (level 4) do not
            continue
        method = re.search(r"method='([^']+)'", head).group(1)
        if pattern not in method.replace('/', '.'):
            continue
        end = s.find('</task>', m.end())
        task = s[m.end():end]
        klass = dict(re.findall(r"<klass id='(\d+)' name='([^']+)'", task))
        methods = re.findall(r"<method id='(\d+)' holder='(\d+)' name='([^']+)'", task)
        names = {i: klass.get(h, '?').split('.')[-1] + '.' + n for i, h, n in methods}
        holder = {i: h for i, h, _ in methods}
        applied = Counter(re.findall(r"<intrinsic id='_Vector([A-Za-z]*)'", task))
        # a call site (inline_id) may be retried; it failed if no attempt was followed by an intrinsic
        tried, done = {}, set()
        for lm in re.finditer(r"<late_inline method='(\d+)'\s+inline_id='(\d+)'[^>]*>.*?</late_inline>\s*(<[^>]+>)", task, re.S):
            name = names.get(lm.group(1), '')
            if name.startswith('VectorSupport.'):
                tried[lm.group(2)] = name
                if lm.group(3).startswith('<intrinsic'):
                    done.add(lm.group(2))
        failed = Counter(name for site, name in tried.items() if site not in done)
        # Vector API calls C2 resolved by a type profile with two receivers, or not at all: the sign of
        # a profile shared across shapes or lane types (thirty-first round), which leaves the species
        # downstream no longer a constant
        poly = Counter()
        for cm in re.finditer(r"<call method='(\d+)'([^>]*)>\s*(<[^>]*>)", task):
            attrs = cm.group(2)
            if "virtual='1'" not in attrs or 'jdk.incubator.vector' not in klass.get(holder.get(cm.group(1)), ''):
                continue
            if "receiver2='" in attrs or "reason='virtual call'" in cm.group(3):
                poly[names.get(cm.group(1), '?')] += 1
        # type guards whose miss path is a virtual call rather than a trap, because the compile's trap or
        # recompilation counts (summed over every inlined copy of a method) passed PerMethodTrapLimit or
        # PerMethodRecompilationCutoff / 2: the species after such a guard is no longer a constant
        # (thirty-second round; the launcher raises both limits)
        untrapped = len(re.findall(r"<observe trap='class_check' count='0'[^>]*>\s*<predicted_call[^>]*>\s*<virtual_call", task))
        kind = 'osr' if "compile_kind='osr'" in head else 'std'
        short = method.split(' (')[0].replace('/', '.')
        label = 'ok       ' if not failed else 'osr-only ' if kind == 'osr' else 'FALLBACKS'
        print(f"{label} #{m.group(1)} {kind} {short}: "
              f"{sum(applied.values())} intrinsics" + (f", failed: {dict(failed)}" if failed else '')
              + (f", polymorphic Vector API calls: {dict(poly)}" if poly else '')
              + (f", type guards without a trap (trap limits): {untrapped}" if untrapped else ''))
        bad += bool(failed) and kind == 'std'
    return 1 if bad else 0


if __name__ == '__main__':
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else 'jllm.tensor'))
