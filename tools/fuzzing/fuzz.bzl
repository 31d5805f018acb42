"""moshx_fuzzer: one libFuzzer target plus a corpus regression test.

moshx_fuzzer(name = "packet_fuzzer", srcs = [...], deps = [...]) defines
  :packet_fuzzer            the fuzzer. Under `--config=fuzz` it links
                            libFuzzer's main (run it on the corpus folder);
                            otherwise a replay main that runs given files.
  :packet_fuzzer_regression_test
                            a cc_test that replays every file of
                            //testdata/fuzz/packet_fuzzer/ through the target,
                            so `bazel test //...` catches crashes on seeds.
The fuzzer source defines LLVMFuzzerTestOneInput and nothing else.
"""

def moshx_fuzzer(name, srcs, deps = [], corpus = None, **kwargs):
    corpus = corpus or "//testdata/fuzz:" + name
    native.cc_binary(
        name = name,
        testonly = True,
        srcs = srcs,
        deps = deps + select({
            "//tools/fuzzing:fuzzing": [],
            "//conditions:default": ["//tools/fuzzing:replay_main"],
        }),
        linkopts = select({
            "//tools/fuzzing:fuzzing": ["-fsanitize=fuzzer"],
            "//conditions:default": [],
        }),
        **kwargs
    )
    native.cc_test(
        name = name + "_regression_test",
        srcs = srcs,
        deps = deps + ["//tools/fuzzing:replay_main"],
        data = [corpus],
        args = ["$(locations %s)" % corpus],
        linkopts = select({
            "//tools/fuzzing:fuzzing": ["-fsanitize=fuzzer-no-link"],
            "//conditions:default": [],
        }),
        **kwargs
    )
