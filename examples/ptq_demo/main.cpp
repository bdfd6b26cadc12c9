// qmath-ptq-demo: post-training INT8 quantization of a Fashion-MNIST MLP with every qmath calibrator.
// See docs/tutorial.md for a walk-through and ptq.hpp for the code.
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>

#include "ptq.hpp"

namespace {

void usage(std::ostream& os) {
  os << "usage: qmath-ptq-demo [options]\n"
        "  --data DIR          Fashion-MNIST idx.gz files (default " << ptq::kDefaultDataDir << ")\n"
        "  --model FILE        weights written by train.py (default: the committed fashion_mlp.qmw)\n"
        "  --calib N           calibration images, the first N training images (default 1000)\n"
        "  --test N            test images, the first N of t10k (default 10000)\n"
        "  --batch N           inference batch size, FP32 and INT8 alike (default 256)\n"
        "  --repeats N         extra timing runs of FP32 and INT8, best kept (default 3)\n"
        "  --epilogue MODE     float (per-channel float multiplier; default) or fixed (Q31 multiplier + shift)\n"
        "  --gemm KIND         fast (qmath::cpu::gemm, default) or reference (qmath::gemm_reference)\n"
        "  --cache FILE        TensorRT calibration cache, entropy calibrator (default ptq_demo_entropy.cache)\n"
        "  --json FILE         results table as JSON (default ptq_demo_results.json)\n"
        "  --histogram FILE    also write one tensor's histogram and every method's threshold as JSON\n"
        "  --histogram-tensor NAME  the tensor for --histogram (default relu1)\n"
        "  --help\n";
}

int parse_int(const std::string& opt, const char* v, long min = 1) {
  char* end = nullptr;
  const long x = std::strtol(v, &end, 10);
  if (end == v || *end != '\0' || x < min || x > 1000000)
    ptq::fail("main", opt, " needs an integer in [", min, ", 1000000], got '", v, "'");
  return static_cast<int>(x);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    ptq::DemoConfig cfg;
    std::string cache = "ptq_demo_entropy.cache", json = "ptq_demo_results.json", hist, hist_tensor = "relu1";
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      if (a == "--help" || a == "-h") {
        usage(std::cout);
        return 0;
      }
      if (i + 1 >= argc) {
        usage(std::cerr);
        ptq::fail("main", "unknown option or missing value: '", a, "'");
      }
      const char* v = argv[++i];
      if (a == "--data") cfg.data_dir = v;
      else if (a == "--model") cfg.model_path = v;
      else if (a == "--calib") cfg.calib_count = parse_int(a, v);
      else if (a == "--test") cfg.test_count = parse_int(a, v);
      else if (a == "--batch") cfg.batch = parse_int(a, v);
      else if (a == "--repeats") cfg.timing_repeats = parse_int(a, v, 0);
      else if (a == "--epilogue") cfg.mode = ptq::parse_scaling(v);
      else if (a == "--gemm") cfg.gemm = ptq::parse_gemm_kind(v);
      else if (a == "--cache") cache = v;
      else if (a == "--json") json = v;
      else if (a == "--histogram") hist = v;
      else if (a == "--histogram-tensor") hist_tensor = v;
      else {
        usage(std::cerr);
        ptq::fail("main", "unknown option '", a, "'");
      }
    }
    const ptq::DemoResult r = ptq::run_demo(cfg, std::cout);
    ptq::print_table(r, std::cout);
    ptq::write_cache(r, "entropy", cache);
    std::cout << "wrote " << cache << " (TensorRT calibration cache, entropy calibrator)\n";
    ptq::write_json(r, json);
    std::cout << "wrote " << json << "\n";
    if (!hist.empty()) {
      ptq::write_histogram_json(r, hist_tensor, hist);
      std::cout << "wrote " << hist << " (histogram of '" << hist_tensor << "')\n";
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "qmath-ptq-demo: " << e.what() << "\n";
    return 1;
  }
}
