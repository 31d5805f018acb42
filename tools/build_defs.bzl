"""Shared build macros for moshx.

moshx_benchmark(name, srcs, deps): a Google Benchmark binary, run with
  `bazel run -c opt //net:foo_benchmark`, plus `<name>_smoke_test`, a cc_test
  that runs every benchmark for a minimal time so `bazel test //...` keeps
  them compiling and crash-free (the smoke test's figures mean nothing).
  Both carry the tag "benchmark": Debian's Google Benchmark is a shared
  library, so --config=aarch64 (fully static) leaves them out by that tag.
"""

def moshx_benchmark(name, srcs, deps = [], data = [], tags = [], **kwargs):
    tags = tags + ["benchmark"]
    native.cc_binary(
        name = name,
        testonly = True,
        srcs = srcs,
        deps = deps + ["@benchmark//:benchmark_main"],
        data = data,
        tags = tags,
        **kwargs
    )
    native.cc_test(
        name = name + "_smoke_test",
        srcs = srcs,
        deps = deps + ["@benchmark//:benchmark_main"],
        data = data,
        args = ["--benchmark_min_time=0.001"],
        size = "medium",
        tags = tags,
        **kwargs
    )
