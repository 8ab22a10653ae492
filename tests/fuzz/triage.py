#!/usr/bin/python3
"""Sorts a libFuzzer crash report (the log of one run) for tools/fuzz:

  triage.py LOG      prints "hdf5" and exits 0 when the fault is HDF5's own, else prints why
                     it is treated as a myelin bug and exits 1

HDF5 1.10.8 (Debian 12) does not validate the metadata it decodes: a file with a corrupted object
header makes it read out of bounds or after free inside its own buffers (a crash in the library,
not in myelin; several CVEs of this kind exist for 1.10). Fuzzing raw file bytes finds such faults
within seconds, and myelin cannot fix them. A fault counts as HDF5's own only when ALL hold:
  - it is an AddressSanitizer report (heap/stack overflow, use after free, SEGV, an allocation
    of absurd size), a libFuzzer timeout, or an allocation over the fuzzer's limit;
  - the innermost frame that is not the sanitizer's or libc's (memcpy, ...) is in libhdf5;
  - the memory it touched was allocated and freed (when ASan says) by libhdf5 itself, so that a
    too-small buffer that myelin passed to HDF5 is still a myelin bug.
Everything else (UBSan, a leak, an uncaught exception, a harness "FUZZ BUG", an out-of-memory, a
fault in myelin code or in myelin's memory) is a myelin bug. tools/fuzz replays an input alone
before it calls its fault myelin's (HDF5 reading through a stale pointer may hit memory that
myelin was given after HDF5 freed it), and replays an out-of-memory with a low limit on single
allocations, so that the report names the code that asked.
"""
import re
import sys

NEUTRAL = re.compile(
    r"__interceptor_|__asan|__sanitizer|__ubsan|__lsan|libclang_rt|asan_|sanitizer_common|\bfuzzer::|"
    r"/libc\.so|libc-start|sysdeps/|string/|__memcpy|__memmove|__memset|__strlen|__strn?cmp|"
    r"in (memcpy|memmove|memset|memcmp|memchr|memrchr|bcmp|strlen|strnlen|strcmp|strncmp|strcpy|strncpy|"
    r"strcat|strncat|strdup|strndup|strchr|strrchr|strstr|strtol|strtoul|sprintf|snprintf|vsnprintf|"
    r"malloc|calloc|realloc|free|posix_memalign|aligned_alloc|operator new|operator delete)\b"
)


def stack_after(lines, start):
    """The frames (#N lines) of the stack that starts at or after line `start`."""
    frames, seen = [], False
    for line in lines[start:]:
        if re.match(r"\s*#\d+ ", line):
            frames.append(line)
            seen = True
        elif seen:
            break
    return frames


def first_real_frame(frames):
    for frame in frames:
        if not NEUTRAL.search(frame):
            return frame
    return ""


def main(path):
    lines = open(path, errors="replace").read().splitlines()
    error = next((i for i, l in enumerate(lines) if re.search(r"ERROR: (AddressSanitizer|libFuzzer)", l)), None)
    if error is None:
        return "no AddressSanitizer report or timeout (UBSan, leak, exception, harness bug?)"
    head = lines[error]
    if "libFuzzer" in head and not re.search(r"timeout|out-of-memory \(malloc", head):
        return "libFuzzer: " + head.split("ERROR: ", 1)[1]
    if "AddressSanitizer" in head and not re.search(
        r"heap-buffer-overflow|heap-use-after-free|stack-buffer-overflow|global-buffer-overflow|SEGV|"
        r"unknown-crash|use-after-poison|negative-size-param|memcpy-param-overlap|"
        r"allocator is out of memory|requested allocation size .* exceeds", head):
        return "AddressSanitizer: " + head.split("AddressSanitizer: ", 1)[1]
    frames = stack_after(lines, error + 1)
    # A timeout's stack starts in libFuzzer's alarm handler; the interrupted code follows the
    # signal frame.
    alarm = next((i for i, f in enumerate(frames) if "AlarmCallback" in f), None)
    if alarm is not None:
        frames = [f for f in frames[alarm + 1:] if "libc.so" not in f or "__libc_start" in f]
    frame = first_real_frame(frames)
    if "libhdf5" not in frame:
        return "the fault is outside HDF5: " + frame.strip()
    for what in ("allocated by thread", "freed by thread"):
        at = next((i for i in range(error, len(lines)) if what in lines[i]), None)
        if at is not None:
            owner = first_real_frame(stack_after(lines, at + 1))
            if "libhdf5" not in owner:
                return f"the memory was {what.split()[0]} outside HDF5: " + owner.strip()
    return None


if __name__ == "__main__":
    why = main(sys.argv[1])
    if why is None:
        print("hdf5")
        sys.exit(0)
    print("myelin: " + why)
    sys.exit(1)
